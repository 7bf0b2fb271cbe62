export { MqttIngest, TELEMETRY_TOPICS, type MqttIngestOptions } from './mqtt.ingest.js';
