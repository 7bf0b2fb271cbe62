import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { MonitorRuntime } from './runtime.js';

/** The page ships as static files in apps/monitor/public, found from either the source or the compiled file. */
export function publicDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'apps', 'monitor', 'public');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('apps/monitor/public not found');
}

/** HTTP wiring shared by main.ts and the e2e tests: static page and WebSocket hub. */
export function configureApp(app: NestExpressApplication, runtime: MonitorRuntime): void {
  app.useStaticAssets(publicDir(), { index: 'index.html', maxAge: 0 });
  runtime.hub.attach(app.getHttpServer());
}
