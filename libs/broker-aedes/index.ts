export { EmbeddedBroker } from './embedded.broker.js';
