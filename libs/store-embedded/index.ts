export { SqliteAlarmStore } from './sqlite.alarm-store.js';
export { SqliteSeriesStore, type StoredReading } from './sqlite.series-store.js';
export { SqliteAuditLog, entryHash } from './sqlite.audit-log.js';
