export { EmbeddedBroker, type BrokerTlsOptions, type EmbeddedBrokerOptions } from './embedded.broker.js';
export { DROPPED_TOPIC, monitorMaySubscribe, type Authentication, type BrokerAuthority, type GatewayIdentity, type RefusalEvent } from './broker-access.js';
