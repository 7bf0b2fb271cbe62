import type { AlarmStore, AuditLog, EscalationPolicy, SeriesStore } from '#libs/contracts/index.js';
import type { AppConfig } from '#libs/config/index.js';
import type { LiveRegistry } from '#libs/registry/index.js';
import type { WsHub } from '#libs/ws/index.js';
import type { MqttIngest } from '#libs/ingest-mqtt/index.js';
import type { AuthService } from './auth/auth.service.js';
import type { Metrics } from './metrics.js';
import type { Notifier } from '#libs/notify/index.js';
import type { ChainWatchdog } from './chain-watchdog.js';
import type { DataQualityBoard } from './data-quality.js';
import type { MonitorPipeline } from './pipeline.js';

/** Everything the HTTP layer reads; built once at boot by startMonitor and handed to Nest as one value. */
export interface MonitorRuntime {
  readonly config: AppConfig;
  readonly registry: LiveRegistry;
  readonly seriesStore: SeriesStore;
  readonly alarmStore: AlarmStore;
  readonly auditLog: AuditLog;
  readonly pipeline: MonitorPipeline;
  readonly hub: WsHub;
  readonly ingest: MqttIngest;
  readonly metrics: Metrics;
  readonly embeddedBroker: boolean;
  /** Escalation timers, disposal and shelving rules from config/escalation.yaml, for the page's overdue timers. */
  readonly escalation: EscalationPolicy;
  /** Notifications, when config/notify.yaml sets them up. */
  readonly notifier: Notifier | null;
  /** The watchdog of the monitoring chain (heartbeats through the broker). */
  readonly chain: ChainWatchdog;
  /** Per-enterprise data completeness, timeliness and online rate. */
  readonly dataQuality: DataQualityBoard;
  readonly auth: AuthService;
}

export const RUNTIME = Symbol('RUNTIME');
