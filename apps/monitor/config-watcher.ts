import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

const CONFIG_FILE = /\.(ya?ml|json)$/;

/**
 * Calls `onChange` once the config files changed under `dir` are stable: no file event, and the same size and
 * modification time at two checks `quietMs` apart. Editors, `cp` and deployment tools write a file in several
 * steps, and a file system may not report every step (network and container mounts), so a quiet spell alone does
 * not prove the file complete. Returns a function that stops watching.
 */
export function watchConfigDir(dir: string, onChange: () => void, quietMs = 1000): () => void {
  /** Paths relative to `dir`; null: the platform did not name the file, so every config file is checked. */
  let changed: Set<string> | null = new Set();
  let previous: string | null = null;
  let timer: NodeJS.Timeout | null = null;

  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, quietMs);
  };
  const check = (): void => {
    timer = null;
    const current = fingerprint(dir, changed ?? configFiles(dir));
    if (current !== previous) {
      previous = current;
      schedule();
      return;
    }
    changed = new Set();
    previous = null;
    onChange();
  };
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, name) => {
    if (name !== null && !CONFIG_FILE.test(name)) return;
    if (name === null) changed = null;
    else changed?.add(name);
    previous = null;
    schedule();
  });
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}

/** Size and modification time of each file, or its absence, as one comparable string. */
function fingerprint(dir: string, names: Iterable<string>): string {
  const parts: string[] = [];
  for (const name of [...names].sort()) {
    try {
      const s = statSync(join(dir, name));
      parts.push(`${name}:${s.size}:${s.mtimeMs}`);
    } catch {
      parts.push(`${name}:absent`);
    }
  }
  return parts.join('\n');
}

function configFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) => CONFIG_FILE.test(n));
  } catch {
    return [];
  }
}
