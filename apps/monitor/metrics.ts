import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, served on GET /metrics. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sentinel_' });
  return {
    registry,
    messages: new Counter({ name: 'sentinel_mqtt_messages_total', help: 'MQTT messages received', registers: [registry] }),
    readings: new Counter({ name: 'sentinel_readings_total', help: 'Readings accepted', registers: [registry] }),
    deadLetters: new Counter({
      name: 'sentinel_dead_letters_total',
      help: 'Messages or readings refused, by reason',
      labelNames: ['reason', 'enterprise', 'gateway'] as const,
      registers: [registry],
    }),
    alarmEvents: new Counter({ name: 'sentinel_alarm_events_total', help: 'Alarm raises, updates and clears', labelNames: ['kind'] as const, registers: [registry] }),
    seriesWritten: new Counter({ name: 'sentinel_series_written_total', help: 'Readings written to the series store', registers: [registry] }),
    heartbeatRoundTrip: new Gauge({ name: 'sentinel_heartbeat_round_trip_seconds', help: "The last watchdog heartbeat's round trip through the broker back into the pipeline", registers: [registry] }),
    heartbeatLastBack: new Gauge({ name: 'sentinel_heartbeat_last_back_timestamp_seconds', help: 'When the last watchdog heartbeat came back through the broker (Unix time)', registers: [registry] }),
    internalErrors: new Counter({
      name: 'sentinel_internal_errors_total',
      help: 'Exceptions contained while handling a message, a rule evaluation or a timer (each logged with its stack)',
      labelNames: ['during'] as const,
      registers: [registry],
    }),
    alarmPushDelay: new Histogram({
      name: 'sentinel_alarm_push_delay_seconds',
      help: 'From the arrival of a gateway message to the WebSocket push of the alarm changes it caused',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    alarmCommit: new Histogram({
      name: 'sentinel_alarm_commit_seconds',
      help: 'Duration of each group commit of alarm changes, audit entries and risk changes to the alarm store (its fsync included)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    activeAlarms: new Gauge({ name: 'sentinel_active_alarms', help: 'Alarms currently active', registers: [registry] }),
    wsClients: new Gauge({ name: 'sentinel_ws_clients', help: 'Connected WebSocket clients', registers: [registry] }),
    dataCompleteness: new Gauge({ name: 'sentinel_data_completeness_ratio', help: 'Readings received over the data-quality window / readings the registry periods call for, all enterprises together', registers: [registry] }),
    enterprisesIncomplete: new Gauge({ name: 'sentinel_enterprises_data_incomplete', help: 'Enterprises with an active data_incomplete alarm', registers: [registry] }),
    alarmStoreUnsaved: new Gauge({ name: 'sentinel_alarm_store_unsaved', help: 'Alarm changes and their records kept in memory because the alarm store cannot write them (0: all stored)', registers: [registry] }),
    notifications: new Gauge({ name: 'sentinel_notifications', help: 'Notification messages in the outbox by state (pending, sent, failed, held, folded)', labelNames: ['state'] as const, registers: [registry] }),
    notificationChannelFailing: new Gauge({ name: 'sentinel_notification_channel_failing', help: '1 while a notification channel fails (its messages wait and are retried)', labelNames: ['channel'] as const, registers: [registry] }),
    authRefusals: new Counter({ name: 'sentinel_auth_refusals_total', help: 'Requests refused by the front door, by status (401, 403, 415, 429)', labelNames: ['status'] as const, registers: [registry] }),
    mqttRefusals: new Counter({ name: 'sentinel_mqtt_refusals_total', help: 'Embedded broker refusals of a connect, publish or subscribe', labelNames: ['kind'] as const, registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Gauges of the InfluxDB store, read at each scrape: its outage buffer and the readings its aggregates left out. */
export function watchInfluxStore(metrics: Metrics, store: { spoolStats(): { lines: number; bytes: number; oldestAt: number | null }; readonly lateForRollups: number }): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'sentinel_rollup_late_readings',
    help: 'Readings left out of the 1-minute aggregates since start: repeats, out of order, or of a window already written (docs/storage.md)',
    registers,
    collect() {
      this.set(store.lateForRollups);
    },
  });
  new Gauge({ name: 'sentinel_spool_lines', help: 'Readings in the InfluxDB outage buffer, not yet in InfluxDB', registers, collect() { this.set(store.spoolStats().lines); } });
  new Gauge({ name: 'sentinel_spool_bytes', help: 'Size of the InfluxDB outage buffer', registers, collect() { this.set(store.spoolStats().bytes); } });
  new Gauge({
    name: 'sentinel_spool_oldest_age_seconds',
    help: 'Age of the oldest reading waiting in the InfluxDB outage buffer (0 when empty)',
    registers,
    collect() {
      const { oldestAt } = store.spoolStats();
      this.set(oldestAt === null ? 0 : (Date.now() - oldestAt) / 1000);
    },
  });
}

/** Readings the rule core took out of order, read at each scrape. */
export function watchRuleCore(metrics: Metrics, stats: () => { late: number; tooLate: number; duplicate: number; clockResets: number }, chattering: () => number): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'sentinel_rule_readings_out_of_order',
    help: 'Readings older than their point\'s newest since boot: late (checked for a missed excursion), too_late (not evaluated), duplicate',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      const s = stats();
      this.set({ kind: 'late' }, s.late);
      this.set({ kind: 'too_late' }, s.tooLate);
      this.set({ kind: 'duplicate' }, s.duplicate);
    },
  });
  new Gauge({ name: 'sentinel_rule_clock_resets', help: 'Points whose clock was reset since boot after their readings kept arriving older than their newest (a clock set back)', registers, collect() { this.set(stats().clockResets); } });
  new Gauge({ name: 'sentinel_chattering_conditions', help: 'Conditions currently held back as chattering', registers, collect() { this.set(chattering()); } });
}
