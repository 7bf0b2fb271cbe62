export { WsHub, type HubSnapshotSource, type LiveValue, type WsHubOptions } from './ws.hub.js';
