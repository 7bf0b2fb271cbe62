import { type DynamicModule, Module } from '@nestjs/common';
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
      controllers: [HealthController, ApiController, AlarmsController, RiskController, RegistryController, SeriesController],
      providers: [{ provide: RUNTIME, useValue: runtime }],
    };
  }
}
