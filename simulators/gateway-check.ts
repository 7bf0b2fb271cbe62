import type { Packet } from 'mqtt';
import type { Point, PointLookup } from '#libs/contracts/index.js';
import { decodeMessage } from '#libs/decode/index.js';

/** What the check found, in words: problems break the contract; notes are worth knowing. */
export interface CheckReport {
  readonly messages: number;
  readonly problems: string[];
  readonly notes: string[];
}

export interface CheckTarget {
  readonly enterpriseCode: string;
  readonly gatewayCode: string;
  /** The gateway's points in the registry. */
  readonly points: readonly Point[];
  /** How far a message's timestamp may be from its arrival before it counts as a clock problem. */
  readonly skewToleranceMs: number;
}

interface Observed {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
  readonly retain: boolean;
  readonly receivedAt: number;
}

/**
 * Judges what one gateway published while the check listened (pure): topic and JSON shape through the monitor's own
 * decoder, QoS, timestamps against the arrival (skew) and against each other (order), points unknown or missing,
 * reporting periods against the registry, and the retained status.
 */
export function judgeGateway(target: CheckTarget, observed: readonly Observed[], registry: PointLookup): CheckReport {
  const problems = new Map<string, number>();
  const add = (p: string): void => void problems.set(p, (problems.get(p) ?? 0) + 1);
  const notes: string[] = [];
  const seenAt = new Map<string, number[]>();
  let lastTs = -Infinity;
  /** The status kept for new subscribers (delivered when the check subscribed), if any. */
  let retainedStatus: string | null = null;
  const prefix = `sites/${target.enterpriseCode}/${target.gatewayCode}/`;
  for (const m of observed) {
    if (!m.topic.startsWith(prefix) || !/\/(telemetry|status)$/.test(m.topic)) {
      add(`published to ${m.topic}: the contract's topics are ${prefix}telemetry and ${prefix}status`);
      continue;
    }
    if (m.qos !== 1) add(`published ${m.topic.endsWith('status') ? 'its status' : 'telemetry'} with QoS ${m.qos}: the contract asks QoS 1 (at least once)`);
    const decoded = decodeMessage(m.topic, m.payload, m.receivedAt, registry);
    if (decoded.kind === 'rejected') {
      add(`message refused (${decoded.rejection.reason}): ${decoded.rejection.detail}`);
      continue;
    }
    if (decoded.kind === 'status') {
      // A broker forwards a live message without its retain flag (MQTT 3.1.1): only the copy kept for new
      // subscribers, delivered when the check subscribed, shows that the gateway retains its status.
      if (m.retain) retainedStatus = decoded.state;
      continue;
    }
    for (const r of decoded.rejections) add(`reading refused (${r.reason}): ${r.detail}`);
    // Timestamps as sent (the decoder clamps those ahead of their arrival).
    const raw = JSON.parse(m.payload.toString('utf8')) as { ts?: number | string };
    const ts = typeof raw.ts === 'number' ? raw.ts : typeof raw.ts === 'string' ? Date.parse(raw.ts) : NaN;
    if (Number.isNaN(ts)) add('telemetry without a message timestamp (ts): readings are stamped at their arrival, late ones lose their own time');
    else {
      const skew = ts - m.receivedAt;
      if (Math.abs(skew) > target.skewToleranceMs) add(`clock ${skew > 0 ? 'ahead of' : 'behind'} the receiver's by about ${Math.round(Math.abs(skew) / 1000)} s (NTP?)`);
      if (ts < lastTs) add('messages out of order: a timestamp earlier than the one before (fine for a buffer replay, not in normal running)');
      lastTs = Math.max(lastTs, ts);
    }
    for (const r of decoded.readings) {
      const list = seenAt.get(r.point.code) ?? [];
      list.push(r.ts);
      seenAt.set(r.point.code, list);
    }
  }
  const telemetry = observed.filter((m) => m.topic === `${prefix}telemetry`).length;
  if (telemetry === 0) add('no telemetry at all while the check listened');
  const missing = target.points.filter((p) => !seenAt.has(p.code)).map((p) => p.code);
  if (telemetry > 0 && missing.length > 0) add(`registered points never reported: ${missing.join(', ')}`);
  for (const p of target.points) {
    const times = (seenAt.get(p.code) ?? []).sort((a, b) => a - b);
    if (times.length < 3) continue;
    const gaps = times.slice(1).map((t, i) => t - times[i]!).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]! / 1000;
    if (median > 1.5 * p.samplePeriodS) add(`${p.code} reports every ${median} s, the registry expects every ${p.samplePeriodS} s: data completeness will fall`);
    else if (median < 0.5 * p.samplePeriodS) notes.push(`${p.code} reports every ${median} s, more often than the registry's ${p.samplePeriodS} s`);
  }
  if (retainedStatus === null) add(`no retained status on ${prefix}status when the check subscribed: publish "online" with the retain flag when connecting, and set "offline" (retained) as the last will`);
  else if (retainedStatus !== 'online' && telemetry > 0) add('its retained status says offline while it sends telemetry');
  return { messages: observed.length, problems: [...problems].map(([p, n]) => (n > 1 ? `${p} (${n} times)` : p)), notes };
}

/** The MQTT packet fields the check needs. */
export function observedOf(topic: string, payload: Buffer, packet: Packet & { qos?: number; retain?: boolean }): Observed {
  return { topic, payload, qos: packet.qos ?? 0, retain: packet.retain ?? false, receivedAt: Date.now() };
}
