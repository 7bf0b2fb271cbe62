import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
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

/** HTTP wiring shared by main.ts and the e2e tests: static page, OpenAPI document and UI, WebSocket hub. */
export function configureApp(app: NestExpressApplication, runtime: MonitorRuntime): void {
  app.useStaticAssets(publicDir(), { index: 'index.html', maxAge: 0 });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Sentinel')
      .setDescription('Hazard-source monitoring and early warning (重大危险源监测预警): registry, alarms and their closed loop, four-colour risk, history. MQTT and WebSocket contracts: README.md.')
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
  runtime.hub.attach(app.getHttpServer());
}
