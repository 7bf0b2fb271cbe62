import { watch, type FSWatcher } from 'node:fs';

/**
 * Calls `onChange` once a burst of file events under `dir` has been quiet for `quietMs` (editors write a file
 * in several steps). Returns a function that stops watching.
 */
export function watchConfigDir(dir: string, onChange: () => void, quietMs = 300): () => void {
  let timer: NodeJS.Timeout | null = null;
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, name) => {
    if (name !== null && !/\.(ya?ml|json)$/.test(name)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, quietMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
