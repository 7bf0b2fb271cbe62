import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeSqlite, openSqlite } from './open-sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('openSqlite', () => {
  it('opens in WAL mode with the asked durability and a 2 MiB page cache, not the 16 MiB better-sqlite3 builds in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-open-sqlite-'));
    dirs.push(dir);
    const full = openSqlite(join(dir, 'nested', 'full.db'), 'full');
    const normal = openSqlite(join(dir, 'normal.db'));
    try {
      expect(full.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(full.pragma('synchronous', { simple: true })).toBe(2);
      expect(normal.pragma('synchronous', { simple: true })).toBe(1);
      for (const db of [full, normal]) expect(db.pragma('cache_size', { simple: true })).toBe(-2000);
    } finally {
      closeSqlite(full);
      closeSqlite(normal);
    }
  });
});
