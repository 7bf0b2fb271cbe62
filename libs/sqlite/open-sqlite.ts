import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';

export type SqliteDb = Database.Database;
export type SqliteTransaction<F extends (...args: never[]) => unknown> = Database.Transaction<F>;

const CHECKPOINT_EVERY_MS = 1000;
/**
 * Page cache per connection, in KiB: SQLite's own default. better-sqlite3 builds SQLite with 16 MiB, which the
 * alarm store filled under an alarm storm (about 19 MB more RSS at 120k readings/s, no less CPU; docs/benchmarks.md).
 */
const CACHE_KIB = 2000;

// One worker thread for every database of the process, with connections of its own: a PASSIVE checkpoint copies the
// WAL back into the database and fsyncs it without blocking writers, so that cost stays off the event loop.
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const dbs = new Map();
setInterval(() => { for (const db of dbs.values()) { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} } }, workerData.everyMs);
parentPort.on('message', ({ add, remove }) => {
  if (add && !dbs.has(add)) { try { dbs.set(add, new Database(add, { fileMustExist: true })); } catch {} }
  if (remove && dbs.has(remove)) { dbs.get(remove).close(); dbs.delete(remove); }
});
`;

let checkpointer: Worker | null = null;
/** Databases whose checkpoints the worker runs. */
const handedOver = new Set<SqliteDb>();

function checkpointerThread(): Worker {
  if (!checkpointer) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { module, everyMs: CHECKPOINT_EVERY_MS } });
    worker.unref();
    // Checkpoints are an optimisation: should the thread fail, SQLite's own checkpointing takes over.
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      if (checkpointer === worker) checkpointer = null;
      for (const db of handedOver) if (db.open) db.pragma('wal_autocheckpoint = 1000');
      handedOver.clear();
    });
    checkpointer = worker;
  }
  return checkpointer;
}

/**
 * `normal`: a commit survives a crash of the process, not a power loss (the WAL is fsynced at checkpoints);
 * `full`: every commit fsyncs the WAL and survives a power loss too (about 0.1 ms a commit here, docs/benchmarks.md).
 */
export type SqliteSync = 'normal' | 'full';

/**
 * Opens (creating folders) a SQLite file in WAL mode: readers never block the writer. WAL checkpoints (an fsync of
 * the database file, taking milliseconds) run in a worker thread rather than inside a commit on the event loop,
 * where they showed as the alarm latency's p99 (docs/benchmarks.md).
 */
export function openSqlite(file: string, sync: SqliteSync = 'normal'): SqliteDb {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`cache_size = -${CACHE_KIB}`);
  if (file !== ':memory:') {
    db.pragma('wal_autocheckpoint = 0');
    handedOver.add(db);
    checkpointerThread().postMessage({ add: db.name });
  }
  return db;
}

/** Checkpoints what is left and closes the database; the worker lets go of it. */
export function closeSqlite(db: SqliteDb): void {
  if (!db.open) return;
  if (handedOver.delete(db)) checkpointer?.postMessage({ remove: db.name });
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
