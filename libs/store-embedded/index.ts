export { SqliteAlarmStore } from './sqlite.alarm-store.js';
export { SqliteSeriesStore, type StoredReading } from './sqlite.series-store.js';
