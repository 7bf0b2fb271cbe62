import { DataQualityController } from './data-quality.controller.js';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuthController } from './auth/auth.controller.js';
import { AuthGuard } from './auth/auth.guard.js';
import { OidcController } from './auth/oidc.controller.js';
import { AlarmsController } from './alarms.controller.js';
import { RiskController } from './risk.controller.js';
import { ApiController, HealthController } from './api.controllers.js';
import { RegistryController } from './registry.controller.js';
import { SeriesController } from './series.controller.js';
import { RUNTIME, type MonitorRuntime } from './runtime.js';

@Module({})
export class AppModule {
  static register(runtime: MonitorRuntime): DynamicModule {
    return {
      module: AppModule,
      // Login attempts per minute and client address (LOGIN_RATE_PER_MIN); the LoginThrottle guard applies it to the login route only.
      imports: [ThrottlerModule.forRoot([{ ttl: 60_000, limit: runtime.config.auth?.loginPerMinute ?? 10 }])],
      controllers: [HealthController, AuthController, OidcController, ApiController, AlarmsController, RiskController, RegistryController, SeriesController, DataQualityController],
      providers: [{ provide: RUNTIME, useValue: runtime }, { provide: APP_GUARD, useClass: AuthGuard }],
    };
  }
}
