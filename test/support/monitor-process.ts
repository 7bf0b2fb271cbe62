import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** Compiles the monitor as `npm run build` does (the page is built by the tests' global setup). */
export function buildMonitor(): void {
  execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}

/**
 * The monitor as shipped, in a process of its own (so that it can be paused or killed): `env` on top of this
 * process's, resolved once /health answers at `port`.
 */
export async function startMonitorProcess(port: number, env: Readonly<Record<string, string>>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [resolve('dist/apps/monitor/main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SIMULATE: '0', LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let up = false; !up; ) {
    if (child.exitCode !== null) throw new Error('the monitor exited during start');
    up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  return child;
}
