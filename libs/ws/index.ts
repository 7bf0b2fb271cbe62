export { WsHub, type HubSnapshotSource, type LiveValue, type WsGate, type WsHubOptions, type WsViewer } from './ws.hub.js';
