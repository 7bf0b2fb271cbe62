export { InfluxSeriesStore, type InfluxStoreOptions } from './influx.series-store.js';
export { toLine } from './line-protocol.js';
