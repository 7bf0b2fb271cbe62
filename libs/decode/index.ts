export { decodeMessage, type Decoded, type DecodeOptions, type Rejection } from './message.decoder.js';
