import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { CONDITION_TYPES, type Alarm, type ConditionType } from '#libs/contracts/index.js';

const reading = z.union([z.number(), z.strictObject({ value: z.number(), quality: z.enum(['good', 'bad']).optional() })]);

const step = z.strictObject({
  /** Seconds after the scenario's start (wall clock) when this step is published. */
  at: z.number().min(0),
  gateway: z.string().default('GW01'),
  /** Readings by point code; each message's `ts` is its event time. */
  readings: z.record(z.string(), reading).optional(),
  /** Event time relative to the step's wall time, in seconds (a gateway clock ahead: > 0). */
  clockOffsetS: z.number().default(0),
  /** More messages after this one: `times` more, each `everyS` seconds later (negative: earlier) in event time, published at once. */
  repeat: z.strictObject({ times: z.number().int().min(1).max(10_000), everyS: z.number().refine((v) => v !== 0, 'seconds between the messages in event time, not 0 (negative: each older than the one before)'), add: z.record(z.string(), z.number()).default({}) }).optional(),
  /** The gateway's status message, or `drop`: its connection cut without a goodbye (the broker sends its will). */
  status: z.enum(['online', 'offline', 'drop']).optional(),
  /** The readings stay the points' values in the gateway's own messages for this long (a `dayOnly` scenario). */
  holdS: z.number().positive().max(86_400).optional(),
});

const expectation = z.strictObject({
  condition: z.enum(CONDITION_TYPES as [ConditionType, ...ConditionType[]]),
  /** The point (or for others the originator code, e.g. a gateway or voting group). */
  point: z.string().optional(),
  originator: z.string().optional(),
  level: z.enum(['HH', 'H', 'L', 'LL', 'ACTIVE']).optional(),
  /** Seconds after the start by which it must be raised. */
  withinS: z.number().positive().default(10),
});

const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string(),
  enterprise: z.string(),
  steps: z.array(step).min(1),
  must: z.array(expectation).default([]),
  /** Alarms that must not be raised during the scenario (`maxRaises` > 0: not more than that many). */
  mustNot: z.array(expectation.omit({ withinS: true }).extend({ maxRaises: z.number().int().min(0).default(0) })).default([]),
  /** How often the standard day stages it, relative to the others (a process upset: 2, a rarer fault: 1). */
  dayWeight: z.number().min(0).max(100).default(1),
  /** Played by the standard day only: it needs a site of its own or hours of event time (e.g. a 15-minute power interval). */
  dayOnly: z.boolean().default(false),
  /** Readings published after the checks, to leave the site normal for the next scenario. */
  reset: z.record(z.string(), z.record(z.string(), z.number())).default({}),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioStep = Scenario['steps'][number];

/** Every scenario in `dir` (simulators/scenarios), by file name; a bad one throws naming the file and key. */
export function loadScenarios(dir: string): Scenario[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      let raw: unknown;
      try {
        raw = yaml.load(readFileSync(join(dir, f), 'utf8'));
      } catch (err) {
        throw new Error(`${join(dir, f)}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`, { cause: err });
      }
      const parsed = scenarioSchema.refine((x) => x.dayOnly || x.steps.every((st) => st.holdS === undefined), { message: 'holdS needs dayOnly: true (only the standard day keeps a value in a gateway\'s messages)', path: ['steps'] }).safeParse(raw);
      if (!parsed.success) throw new Error(`${join(dir, f)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return parsed.data;
    });
}

/** A telemetry message as a gateway publishes it (the MQTT contract's payload). */
export interface TelemetryMessage {
  readonly ts: number;
  readonly readings: readonly { readonly point: string; readonly value: number; readonly quality?: 'good' | 'bad' }[];
}

/**
 * The telemetry messages of a step published at `now` (pure): one, or with `repeat` that many more, each `everyS`
 * later in event time with its values plus `add`; event times are offset by `clockOffsetS`. None without readings.
 */
export function stepMessages(step: ScenarioStep, now: number): TelemetryMessage[] {
  if (step.readings === undefined) return [];
  const base = now + step.clockOffsetS * 1000;
  const entries = Object.entries(step.readings);
  return Array.from({ length: 1 + (step.repeat?.times ?? 0) }, (_, k) => ({
    ts: base + k * (step.repeat?.everyS ?? 0) * 1000,
    readings: entries.map(([point, r]) => ({
      point,
      value: (typeof r === 'number' ? r : r.value) + k * (step.repeat?.add[point] ?? 0),
      ...(typeof r !== 'number' && r.quality !== undefined && { quality: r.quality }),
    })),
  }));
}

/** The message that leaves a gateway's points normal after a scenario (its `reset`), published at `now`. */
export function resetMessage(values: Readonly<Record<string, number>>, now: number): TelemetryMessage {
  return { ts: now, readings: Object.entries(values).map(([point, value]) => ({ point, value })) };
}

/** An alarm change seen during a scenario: what it was and when, in seconds after the start. */
export interface Seen {
  readonly event: string;
  readonly alarm: Alarm;
  readonly atS: number;
}

export interface Verdict {
  readonly scenario: string;
  readonly expectation: string;
  readonly ok: boolean;
  readonly detail: string;
  /** Which list of the scenario the expectation comes from, and the alarm it names (e.g. `limit_high HH on T101-PT`). */
  readonly kind: 'must' | 'mustNot';
  readonly subject: string;
  /** For a `must`: its time limit, and seconds after the start when it was raised (null: never). */
  readonly withinS: number | null;
  readonly atS: number | null;
}

type Expect = Scenario['must'][number] | Scenario['mustNot'][number];

function matches(x: Expect, enterprise: string, a: Alarm): boolean {
  if (a.condition !== x.condition) return false;
  if (x.point !== undefined && a.pointCode !== x.point) return false;
  if (x.originator !== undefined && a.originatorCode !== x.originator) return false;
  if (x.level !== undefined && a.level !== x.level) return false;
  return a.enterpriseCode === enterprise || a.enterpriseCode === 'system';
}

const describe = (x: Expect): string => `${x.condition}${x.level ? ` ${x.level}` : ''}${x.point ? ` on ${x.point}` : ''}${x.originator ? ` of ${x.originator}` : ''}`;

/**
 * The verdicts of one scenario (pure): each `must` alarm raised (or reached its level) within its time, each
 * `mustNot` raised no more than allowed.
 */
export function judge(s: Scenario, seen: readonly Seen[]): Verdict[] {
  const out: Verdict[] = [];
  for (const m of s.must) {
    const hit = seen.find((x) => (x.event === 'raise' || x.event === 'update' || x.event === 'escalate') && matches(m, s.enterprise, x.alarm));
    out.push({
      scenario: s.name,
      expectation: `must ${describe(m)} within ${m.withinS} s`,
      ok: hit !== undefined && hit.atS <= m.withinS,
      detail: hit === undefined ? 'not raised' : `raised after ${hit.atS.toFixed(1)} s`,
      kind: 'must',
      subject: describe(m),
      withinS: m.withinS,
      atS: hit?.atS ?? null,
    });
  }
  for (const n of s.mustNot) {
    const raises = seen.filter((x) => x.event === 'raise' && matches(n, s.enterprise, x.alarm)).length;
    out.push({
      scenario: s.name,
      expectation: n.maxRaises === 0 ? `must not ${describe(n)}` : `at most ${n.maxRaises} raise${n.maxRaises === 1 ? '' : 's'} of ${describe(n)}`,
      ok: raises <= n.maxRaises,
      detail: `${raises} raised`,
      kind: 'mustNot',
      subject: describe(n),
      withinS: null,
      atS: null,
    });
  }
  return out;
}

/** How long a scenario runs: its last step, plus the longest wait of its expectations. */
export function durationS(s: Scenario): number {
  const last = Math.max(...s.steps.map((x) => x.at));
  return Math.max(last + 2, ...s.must.map((m) => m.withinS));
}
