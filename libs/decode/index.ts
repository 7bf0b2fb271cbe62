export { decodeMessage, type Decoded, type Rejection } from './message.decoder.js';
