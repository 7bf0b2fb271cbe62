import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { pino, type Logger } from 'pino';
import { concatMap } from 'rxjs';
import type { AlarmEvent, AlarmStore, Point, SeriesStore } from '#libs/contracts/index.js';
import { loadEscalationPolicy, loadNotifyPolicy, loadRiskWeights, type AppConfig } from '#libs/config/index.js';
import { LiveRegistry, loadRegistry } from '#libs/registry/index.js';
import { EmbeddedBroker } from '#libs/broker-aedes/index.js';
import { MqttIngest } from '#libs/ingest-mqtt/index.js';
import { InfluxSeriesStore } from '#libs/store-influx/index.js';
import { SqliteAlarmStore, SqliteAuditLog, SqliteSeriesStore } from '#libs/store-embedded/index.js';
import { WsHub } from '#libs/ws/index.js';
import { Notifier } from '#libs/notify/index.js';
import { ChainWatchdog } from './chain-watchdog.js';
import { DataQualityBoard } from './data-quality.js';
import { ISA_CHATTER, ISA_FLOOD } from '#libs/rules/index.js';
import { startSimulator, type RunningSimulator } from '../../simulators/index.js';
import { AppModule } from './app.module.js';
import { watchConfigDir } from './config-watcher.js';
import { configureApp } from './configure-app.js';
import { createMetrics, watchInfluxStore } from './metrics.js';
import { MonitorPipeline } from './pipeline.js';
import type { MonitorRuntime } from './runtime.js';
import { AuthService } from './auth/auth.service.js';
import { serveMetrics } from './metrics-listener.js';
import { mqttAccess } from './mqtt-access.js';

/** How long 1-min and 15-min aggregates are kept in InfluxDB (5 years). */
const AGGREGATE_DAYS = 1825;

export interface RunningMonitor {
  readonly runtime: MonitorRuntime;
  readonly app: NestExpressApplication;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:3000 */
  readonly url: string;
  readonly mqttUrl: string;
  readonly log: Logger;
  /** Set at the first boot: the admin user created, with its password when it was generated (printed once). */
  readonly initialAdmin: { readonly username: string; readonly password: string | null } | null;
  /** The unauthenticated /metrics listener's URL when METRICS_PORT is set. */
  readonly metricsUrl: string | null;
  close(): Promise<void>;
}

/** Boots the whole monitor from a validated config. Throws ConfigError on a bad registry before opening anything. */
export interface StartOptions {
  readonly log?: Logger;
  /** How long boot waits for the broker before serving anyway (degraded) while the client keeps retrying. */
  readonly brokerWaitMs?: number;
}

/** A heap cap too small for the registry ends in an out-of-memory crash under load: say so at boot, with the fix. */
function warnIfHeapTight(log: Logger, points: number): void {
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  if (used < limit * 0.5) return;
  const mb = (n: number): number => Math.round(n / 2 ** 20);
  log.warn({ usedMb: mb(used), limitMb: mb(limit), points }, `the registry leaves little heap (${mb(used)} of ${mb(limit)} MB used after loading ${points} points); raise SENTINEL_HEAP_MB to about ${Math.ceil((mb(used) * 2.5) / 32) * 32}`);
}

export async function startMonitor(config: AppConfig, options: StartOptions = {}): Promise<RunningMonitor> {
  const log = options.log ?? pino({ level: config.logLevel });
  const registry = new LiveRegistry(loadRegistry(config.configDir), () => loadRegistry(config.configDir), { maxRemovedPct: config.reloadMaxRemovedPct });
  warnIfHeapTight(log, registry.registry.pointCount);
  const escalation = loadEscalationPolicy(config.configDir);
  const riskWeights = loadRiskWeights(config.configDir);
  const metrics = createMetrics();
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        log.error({ err }, 'error while shutting down');
      }
    }
  };

  try {
    let mqttUrl = config.mqttUrl;
    const access = await mqttAccess(config, registry, metrics, log);
    if (mqttUrl === null) {
      const broker = await EmbeddedBroker.start(config.mqttPort, config.host, { ...access.broker, maxPacketBytes: config.mqttMaxPacketBytes, onProblem: (problem) => log.warn(problem) });
      closers.push(() => broker.close());
      mqttUrl = broker.url;
      log.info({ port: broker.port, tlsPort: broker.tlsPort }, 'embedded MQTT broker listening');
    }

    const sqliteAlarms = new SqliteAlarmStore(join(config.dataDir, 'alarms.db'), config.alarmDbSync ?? 'full');
    const alarmStore: AlarmStore = sqliteAlarms;
    closers.push(() => alarmStore.close());
    const auditLog = new SqliteAuditLog(sqliteAlarms.db);
    const auth = new AuthService(join(config.dataDir, 'identity.db'), config.auth ?? {}, config.adminToken, registry, auditLog, log);
    closers.push(() => auth.close());
    const initialAdmin = await auth.seedAdmin();
    let seriesStore: SeriesStore;
    if (config.influx) {
      const influx = new InfluxSeriesStore({
        ...config.influx,
        spoolDir: join(config.dataDir, 'influx-spool'),
        maxSpoolBytes: config.spoolMaxBytes,
        log: (level, msg, fields) => log[level](fields, msg),
        onWritten: (n) => metrics.seriesWritten.inc(n),
      });
      await influx.ensureDatabase(config.influx.downsample ? { retentionDays: config.retentionDays, aggregateDays: AGGREGATE_DAYS } : undefined);
      watchInfluxStore(metrics, influx);
      seriesStore = influx;
    } else {
      seriesStore = new SqliteSeriesStore(join(config.dataDir, 'series.db'), { retentionMs: config.retentionDays * 86_400_000 });
    }
    closers.push(() => seriesStore.close());

    let pipeline: MonitorPipeline | null = null;
    const hub = new WsHub({
      activeAlarms: () => pipeline?.book.activeAlarms() ?? [],
      gateways: () => pipeline?.gateways() ?? [],
      regionOf: (e) => registry.registry.findEnterprise(e)?.region,
    });
    const notifyPolicy = loadNotifyPolicy(config.configDir);
    const notifier =
      notifyPolicy === null
        ? null
        : new Notifier({
            policy: notifyPolicy,
            outboxFile: join(config.dataDir, 'notify.db'),
            enterprise: (code) => registry.registry.findEnterprise(code),
            onOutcome: (r, outcome, error) => {
              const detail = { channel: r.channel, recipient: r.recipient.name, kind: r.kind, level: r.level, attempts: r.attempts, ...(error !== null && { error }) };
              if (outcome === 'failed') log.error(detail, 'notification given up');
              else log.info(detail, 'notification sent');
              try {
                auditLog.append([{ at: new Date().toISOString(), actor: 'system', origin: 'system', action: outcome === 'sent' ? 'notification_sent' : 'notification_failed', alarmId: r.alarmId, detail }]);
              } catch (err) {
                log.error({ err }, 'audit of a notification failed');
              }
            },
          });
    if (notifier !== null) closers.push(() => notifier.close());
    const { rules } = config;
    const heartbeatTopic = `sentinel/heartbeat/${config.mqttClientId}`;
    let watchdog: ChainWatchdog | null = null;
    const dataQuality = new DataQualityBoard(() => registry.registry, rules.dataQualityWindowMin ?? 60, Date.now(), rules.dataQualityBucketMs);
    pipeline = new MonitorPipeline({
      registry,
      seriesStore,
      alarmStore,
      auditLog,
      escalation,
      riskWeights,
      hub,
      metrics,
      log,
      ruleTickMs: rules.tickMs,
      historyRetentionMs: config.historyRetentionDays ? config.historyRetentionDays * 86_400_000 : null,
      ...(notifier !== null && { notify: (events: readonly AlarmEvent[]) => notifier.onEvents(events) }),
      heartbeat: { topic: heartbeatTopic, arrived: (payload) => watchdog?.arrived(payload) },
      dataQuality: { board: dataQuality, minCompleteness: rules.dataCompletenessMin ?? 0.9 },
      ruleOptions: {
        gatewaySilencePeriods: rules.gatewaySilencePeriods,
        lateWindowMs: rules.lateWindowS * 1000,
        ...(rules.clockSkewS !== undefined && { clockSkewToleranceMs: rules.clockSkewS * 1000 }),
        chatter: { ...ISA_CHATTER, maxTransitions: rules.chatterMaxTransitions === 0 ? Number.POSITIVE_INFINITY : rules.chatterMaxTransitions },
        flood: rules.floodMaxAlarms === 0 ? { ...ISA_FLOOD, maxRaises: Number.POSITIVE_INFINITY } : { ...ISA_FLOOD, maxRaises: rules.floodMaxAlarms, endBelow: Math.ceil(rules.floodMaxAlarms / 2) },
      },
    });
    const ingest = new MqttIngest(
      { url: mqttUrl, clientId: config.mqttClientId, maxPacketBytes: config.mqttMaxPacketBytes, heartbeatTopic, ...(access.monitorLogin !== null && access.monitorLogin) },
      (problem) => log.warn(problem),
    );
    ingest.start();
    const started = pipeline;
    // Closed in reverse: the broker connection first, while the pipeline still takes (and acknowledges, once
    // durable) what arrives; then the pipeline. A message arriving after that is never acknowledged: sent again.
    closers.push(() => started.stop());
    closers.push(() => ingest.close());
    pipeline.start(ingest.messages());
    await pipeline.seedFromStore();
    // Sends what is pending, also what a previous run stored and could not send before it stopped.
    notifier?.start();
    const chain = new ChainWatchdog({
      intervalMs: (rules.watchdogIntervalS ?? 15) * 1000,
      publish: (payload) => ingest.publishHeartbeat(payload),
      verdict: (hop, active, message) => started.chainHop(hop, active, message),
      onBack: (roundTripMs, at) => {
        metrics.heartbeatRoundTrip.set(roundTripMs / 1000);
        metrics.heartbeatLastBack.set(at / 1000);
      },
    });
    watchdog = chain;
    chain.start();
    closers.push(() => chain.stop());
    if (!(await ingest.whenSubscribed(options.brokerWaitMs ?? 5000))) {
      log.warn({ mqttUrl }, 'MQTT broker not reachable yet; serving with /health degraded and retrying in the background');
    }

    const swaps = registry.swaps$.subscribe(({ next }) => hub.registryReloaded((old) => next.findPoint(old.enterpriseCode, old.code), next.pointCount));
    closers.push(() => swaps.unsubscribe());
    if (config.configWatch) {
      const stopWatching = watchConfigDir(config.configDir, () => {
        // Never forced: a reload that would remove many points waits for an admin's POST /api/registry/reload?force=1.
        const outcome = registry.reload();
        if (outcome.ok) log.info(outcome, 'registry reloaded after a change under CONFIG_DIR');
        else log.error({ problems: outcome.problems }, 'registry change refused; the previous registry stays in force');
      });
      closers.push(stopWatching);
    }

    const runtime: MonitorRuntime = { config, registry, seriesStore, alarmStore, auditLog, pipeline, hub, ingest, metrics, embeddedBroker: config.mqttUrl === null, auth, escalation, notifier, chain, dataQuality };
    const app = await NestFactory.create<NestExpressApplication>(AppModule.register(runtime), { logger: ['error', 'warn'] });
    configureApp(app, runtime);
    await app.listen(config.port, config.host);
    closers.push(() => app.close());
    // Runs before app.close(): open WebSocket connections would otherwise keep the HTTP server from closing.
    closers.push(() => hub.close());
    const address = app.getHttpServer().address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;
    let metricsUrl: string | null = null;
    const metricsPort = config.auth?.metricsPort ?? null;
    if (metricsPort !== null) {
      const listener = await serveMetrics(metrics, () => hub.clientCount, metricsPort, config.host);
      closers.push(() => listener.close());
      metricsUrl = listener.url;
    }

    if (config.simulate) {
      const simulate = async (points: readonly Point[]): Promise<RunningSimulator> => {
        await access.ensureDemoCredentials();
        return startSimulator({ url: mqttUrl, points, periodMs: config.simulatePeriodMs, password: access.simulatorPassword });
      };
      let simulator = await simulate(registry.registry.allPoints());
      closers.push(() => simulator.stop());
      // The demo simulator follows the registry: after a reload it publishes the points now registered.
      const follow = registry.swaps$
        .pipe(
          concatMap(async ({ next }) => {
            await simulator.stop();
            simulator = await simulate(next.allPoints());
          }),
        )
        .subscribe({ error: (err: unknown) => log.error({ err }, 'simulator restart failed') });
      closers.push(() => follow.unsubscribe());
      log.info({ points: registry.registry.pointCount, periodMs: config.simulatePeriodMs }, 'simulator publishing demo sites');
    }
    log.info({ url, mqttUrl, store: seriesStore.health().kind }, `Sentinel command centre: open http://localhost:${address.port}/`);
    return { runtime, app, url, mqttUrl, log, initialAdmin, metricsUrl, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
