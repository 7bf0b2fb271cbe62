import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpenAPIObject } from '@nestjs/swagger';
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

/** The Swagger UI page, pointed at our document; its scripts come from swagger-ui-dist. */
const DOCS_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Sentinel API</title><link rel="stylesheet" href="/api/docs/ui/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/api/docs/ui/swagger-ui-bundle.js"></script>
<script>window.onload = () => { window.ui = SwaggerUIBundle({ url: '/api/docs/openapi.json', dom_id: '#ui' }); };</script></body></html>`;

const MAX_BODY = '64kb';

/** HTTP wiring shared by main.ts and the e2e tests: static page, OpenAPI document and UI, WebSocket hub. */
export function configureApp(app: NestExpressApplication, runtime: MonitorRuntime): void {
  // Request bodies are small commands (acknowledge, dispose, comment): a bigger one is refused with 413 unread.
  app.useBodyParser('json', { limit: MAX_BODY });
  app.useBodyParser('urlencoded', { limit: MAX_BODY, extended: true });
  app.useStaticAssets(publicDir(), { index: 'index.html', maxAge: 0 });
  // The OpenAPI document is built on first request, loading @nestjs/swagger only then.
  let document: Promise<OpenAPIObject> | null = null;
  const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  app.useStaticAssets(swaggerUi, { prefix: '/api/docs/ui/', index: false });
  app.use((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || (path !== '/api/docs' && path !== '/api/docs/' && path !== '/api/docs/openapi.json')) return next();
    if (path !== '/api/docs/openapi.json') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(DOCS_PAGE);
      return;
    }
    document ??= import('./openapi.js').then((m) => m.openApiDocument(app));
    document.then(
      (doc) => {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(doc));
      },
      (err: unknown) => next(err),
    );
  });
  runtime.hub.attach(app.getHttpServer());
}
