import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpenAPIObject } from '@nestjs/swagger';
import compression from 'compression';
import helmet from 'helmet';
import type { MonitorRuntime } from './runtime.js';
import type { WsGate } from '#libs/ws/index.js';
import { PERMISSION_TABLE } from './auth/permissions.js';
import { presentedToken } from './auth/auth.service.js';
import { jsonOnlyWrites, originAllowed, sameOriginWrites } from './http/hardening.js';

/**
 * The page is built (npm run build: apps/web bundled by esbuild) into dist/web, found from either the source or the
 * compiled file.
 */
export function publicDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'dist', 'web');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('dist/web/index.html not found: build the page first (npm run build)');
}

/** The Swagger UI page, pointed at our document; its scripts come from swagger-ui-dist. */
const DOCS_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Sentinel API</title><link rel="stylesheet" href="/api/docs/ui/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/api/docs/ui/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>`;
const DOCS_INIT = `window.onload = () => { window.ui = SwaggerUIBundle({ url: '/api/docs/openapi.json', dom_id: '#ui' }); };`;
const DOCS_PATHS = new Set(['/api/docs', '/api/docs/', '/api/docs/openapi.json', '/api/docs/init.js']);

const MAX_BODY = '64kb';

/**
 * HTTP wiring shared by main.ts and the e2e tests: security headers, JSON-only writes from this origin, static page,
 * OpenAPI document and UI (signed-in callers only), and the WebSocket hub behind the same sign-in.
 */
export function configureApp(app: NestExpressApplication, runtime: MonitorRuntime): void {
  const { auth } = runtime;
  const allowedOrigins = runtime.config.auth?.allowedOrigins ?? [];
  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'default-src': ["'self'"], 'script-src': ["'self'"], 'style-src': ["'self'", "'unsafe-inline'"], 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'"] },
      },
      // Served over plain HTTP by default (TLS belongs to the reverse proxy): no upgrade directive or HSTS from here.
      strictTransportSecurity: false,
    }),
  );
  app.use(sameOriginWrites(allowedOrigins, (req) => auth.auditRefusal(null, auth.clientAddress(req), { status: 403, method: req.method, path: req.url, reason: `cross-origin write from ${req.headers.origin ?? '?'}` })));
  app.use(jsonOnlyWrites);
  // Every API read sees in the alarm store what has already been pushed (alarm changes are group-committed).
  app.use((_req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void) => {
    try {
      runtime.pipeline.flushPending();
    } finally {
      next();
    }
  });
  // Request bodies are small commands (acknowledge, dispose, comment): a bigger one is refused with 413 unread.
  app.useBodyParser('json', { limit: MAX_BODY });
  // The page's bundle (624 KiB) and the larger API lists travel gzipped: about a third of the bytes.
  app.use(compression());
  app.useStaticAssets(publicDir(), { index: 'index.html', maxAge: 0 });
  // The OpenAPI document is built on first request, loading @nestjs/swagger only then.
  let document: Promise<OpenAPIObject> | null = null;
  const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  app.useStaticAssets(swaggerUi, { prefix: '/api/docs/ui/', index: false });
  app.use((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method !== 'GET' || !DOCS_PATHS.has(path)) return next();
    if (auth.authenticate(req) === null) {
      res.statusCode = 401;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ statusCode: 401, message: 'sign in first: the API documentation is for signed-in callers' }));
      return;
    }
    if (path === '/api/docs/init.js') {
      res.setHeader('content-type', 'text/javascript; charset=utf-8');
      res.end(DOCS_INIT);
      return;
    }
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
  runtime.hub.attach(app.getHttpServer(), wsGate(runtime, allowedOrigins));
}

/** The WebSocket's front door: the page's origin (or an allowed one), then the same sign-in as the API. */
function wsGate(runtime: MonitorRuntime, allowedOrigins: readonly string[]): WsGate {
  const { auth } = runtime;
  return (req) => {
    const address = auth.clientAddress(req);
    if (!originAllowed(req, allowedOrigins)) {
      auth.auditRefusal(null, address, { status: 403, path: '/ws', reason: `origin ${req.headers.origin ?? '?'} not allowed` });
      return { status: 403, reason: 'origin not allowed (ALLOWED_ORIGINS)' };
    }
    const token = presentedToken(req, true);
    const subject = auth.authenticate(req, true);
    if (subject === null || token === undefined) {
      auth.auditRefusal(null, address, { status: 401, path: '/ws' });
      return { status: 401, reason: 'sign in first: send Authorization: Bearer <token>, the session cookie, or ?access_token=' };
    }
    if (!PERMISSION_TABLE.read.includes(subject.role)) return { status: 403, reason: `role ${subject.role} may not read alarms` };
    // The enterprises a region covers follow registry reloads; a changed role or jurisdiction ends the connection.
    let registry = runtime.registry.registry;
    let access = auth.accessOf(subject);
    const current = (): typeof access => {
      if (runtime.registry.registry !== registry) {
        registry = runtime.registry.registry;
        access = auth.accessOf(subject);
      }
      return access;
    };
    const key = 'all' in subject.jurisdiction ? '*' : JSON.stringify(subject.jurisdiction);
    const stillValid = (): boolean => {
      const now = auth.subjectOf(token);
      return now !== null && now.role === subject.role && JSON.stringify(now.jurisdiction) === JSON.stringify(subject.jurisdiction);
    };
    const visiblePoints = (): number => {
      const within = current().enterpriseCodes;
      return within === null ? runtime.registry.registry.pointCount : runtime.registry.registry.queryPoints({ within }, 0, 0).total;
    };
    return { viewer: { key, sees: (code) => current().sees(code), stillValid, visiblePoints } };
  };
}
