import type { DeadLetterReason, GatewayState, PointLookup, Quality, Reading } from '#libs/contracts/index.js';

export interface Rejection {
  readonly reason: DeadLetterReason;
  readonly detail: string;
}

export type Decoded =
  | {
      readonly kind: 'telemetry';
      readonly enterpriseCode: string;
      readonly gatewayCode: string;
      readonly readings: Reading[];
      /** Readings refused one by one while the rest of the message was accepted. */
      readonly rejections: Rejection[];
      /** How far ahead of its arrival the sender stamped its readings (0 when none was ahead); they were clamped. */
      readonly clockAheadMs: number;
    }
  | { readonly kind: 'status'; readonly enterpriseCode: string; readonly gatewayCode: string; readonly state: GatewayState }
  | { readonly kind: 'rejected'; readonly rejection: Rejection };

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function reject(reason: DeadLetterReason, detail: string): Decoded {
  return { kind: 'rejected', rejection: { reason, detail } };
}

/** Parses a timestamp given as epoch milliseconds or RFC 3339; NaN when it is neither. */
function parseTs(raw: unknown): number {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw > 0 ? raw : NaN;
  if (typeof raw === 'string' && RFC3339.test(raw)) return Date.parse(raw);
  return NaN;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Topic contract: `sites/<enterpriseCode>/<gatewayCode>/telemetry` with JSON
 * `{"ts": <epoch ms | RFC 3339>, "readings": [{"point": "<code>", "value": <number>, "ts"?: …, "quality"?: "good"|"bad"}]}`,
 * and `sites/<enterpriseCode>/<gatewayCode>/status` with `online` / `offline`.
 */
/**
 * Readings stamped ahead of `receivedAt` (a clock running fast) are not refused: `clockAheadMs` says how far ahead
 * the furthest was, and the time model bounds them by their arrival (`boundedByArrival` in libs/rules).
 */
export function decodeMessage(topic: string, payload: Buffer, receivedAt: number, points: PointLookup): Decoded {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'sites' || !parts[1] || !parts[2]) {
    return reject('bad_topic', 'expected sites/<enterpriseCode>/<gatewayCode>/telemetry|status');
  }
  const enterpriseCode = parts[1];
  const gatewayCode = parts[2];
  if (parts[3] === 'status') {
    const text = payload.toString('utf8').trim();
    if (text === 'online' || text === 'offline') return { kind: 'status', enterpriseCode, gatewayCode, state: text };
    return reject('bad_status', `status payload must be "online" or "offline", got ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (parts[3] !== 'telemetry') return reject('bad_topic', `unknown message kind "${parts[3]}"; expected telemetry or status`);

  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return reject('bad_json', `payload is not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(body)) return reject('bad_schema', 'payload must be a JSON object {"ts", "readings"}');
  const messageTs = body.ts === undefined ? receivedAt : parseTs(body.ts);
  if (Number.isNaN(messageTs)) return reject('bad_timestamp', 'ts must be epoch milliseconds or an RFC 3339 date-time');
  const list = body.readings;
  if (!Array.isArray(list) || list.length === 0) return reject('bad_schema', 'readings must be a non-empty array');

  let clockAheadMs = 0;
  const readings: Reading[] = [];
  const rejections: Rejection[] = [];
  for (let i = 0; i < list.length; i++) {
    const r: unknown = list[i];
    if (!isRecord(r) || typeof r.point !== 'string') {
      rejections.push({ reason: 'bad_schema', detail: `readings[${i}].point must be a string` });
      continue;
    }
    const value = r.value;
    if (typeof value !== 'number') {
      rejections.push({ reason: 'bad_schema', detail: `readings[${i}].value must be a number (point ${r.point})` });
      continue;
    }
    // JSON.parse reads 1e999 as Infinity; no store or rule can take it.
    if (!Number.isFinite(value)) {
      rejections.push({ reason: 'bad_schema', detail: `readings[${i}].value must be a finite number (point ${r.point})` });
      continue;
    }
    let quality: Quality = 'good';
    if (r.quality !== undefined) {
      if (r.quality !== 'good' && r.quality !== 'bad') {
        rejections.push({ reason: 'bad_schema', detail: `readings[${i}].quality must be "good" or "bad" (point ${r.point})` });
        continue;
      }
      quality = r.quality;
    }
    const ts = r.ts === undefined ? messageTs : parseTs(r.ts);
    if (Number.isNaN(ts)) {
      rejections.push({ reason: 'bad_timestamp', detail: `readings[${i}].ts must be epoch milliseconds or RFC 3339 (point ${r.point})` });
      continue;
    }
    const point = points.findPoint(enterpriseCode, r.point);
    if (!point) {
      rejections.push({ reason: 'unknown_point', detail: `point ${r.point} is not registered for enterprise ${enterpriseCode}` });
      continue;
    }
    if (point.gatewayCode !== gatewayCode) {
      rejections.push({ reason: 'wrong_gateway', detail: `point ${r.point} is registered to gateway ${point.gatewayCode}, not ${gatewayCode}` });
      continue;
    }
    if (ts > receivedAt) clockAheadMs = Math.max(clockAheadMs, ts - receivedAt);
    readings.push({ point, ts, value, quality });
  }
  return { kind: 'telemetry', enterpriseCode, gatewayCode, readings, rejections, clockAheadMs };
}
