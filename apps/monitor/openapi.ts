// Loaded on the first request to /api/docs only: @nestjs/swagger costs ~15 MB of memory that a monitor which
// nobody asks for its API description should not carry.
import type { INestApplication } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiTags, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AlarmsController, BODIES } from './alarms.controller.js';
import { ApiController, HealthController } from './api.controllers.js';
import { AuthController } from './auth/auth.controller.js';
import { RegistryController } from './registry.controller.js';
import { RiskController } from './risk.controller.js';
import { SeriesController } from './series.controller.js';

type Method = (...args: never[]) => unknown;

function annotate(target: object, method: string, ...decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, method) as TypedPropertyDescriptor<Method>;
  for (const d of decorators) d(target, method, descriptor);
}

/** Tags, summaries and the body of alarm actions, applied to the controllers, then the document built from them. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  ApiTags('monitor')(HealthController);
  ApiTags('monitor')(ApiController);
  ApiTags('registry')(RegistryController);
  ApiTags('history')(SeriesController);
  ApiTags('risk')(RiskController);
  ApiTags('alarms')(AlarmsController);
  ApiTags('auth')(AuthController);
  for (const c of [ApiController, RegistryController, SeriesController, RiskController, AlarmsController, AuthController]) ApiBearerAuth()(c);
  annotate(AlarmsController.prototype, 'list', ApiOperation({ summary: 'Alarms, newest raised first; filters state, status, severity, condition, enterpriseCode, hazardSourceCode, regionCode, from, to; paged by offset/limit (X-Total-Count, Link)' }));
  annotate(
    AlarmsController.prototype,
    'action',
    ApiOperation({
      summary: 'Act on an open alarm: ack, dispose, shelve, unshelve, comments, assign',
      description: "Needs the role the action asks for (docs/security.md) within the caller's jurisdiction, else 403. 200 with the alarm after the action; 400 naming a bad field; 404 for an unknown alarm or action; 409 with the reason when the alarm's state does not allow it (e.g. dispose before acknowledge, anything once closed).",
    }),
    ApiParam({ name: 'verb', enum: Object.keys(BODIES) }),
    ApiBody({
      schema: {
        type: 'object',
        properties: {
          by: { type: 'string', description: 'deprecated: who acts is the signed-in caller; if sent, it must be that user name' },
          cause: { type: 'string', description: 'dispose: what caused the alarm' },
          action: { type: 'string', description: 'dispose: what was done' },
          handler: { type: 'string', description: 'dispose: who handled it' },
          reason: { type: 'string', description: 'shelve: why' },
          forS: { type: 'integer', description: 'shelve: seconds, at most maxShelveS of config/escalation.yaml' },
          text: { type: 'string', description: 'comments: the comment' },
          assignee: { type: 'string', description: 'assign: the person on duty' },
        },
      },
    }),
  );
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Sentinel')
      .setDescription('Hazard-source monitoring and early warning (重大危险源监测预警): registry, alarms and their closed loop, four-colour risk, history. MQTT and WebSocket contracts: README.md.')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
}
