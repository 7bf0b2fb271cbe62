export { InfluxSeriesStore, type InfluxStoreOptions } from './influx.series-store.js';
export type { Availability } from './spool-drainer.js';
