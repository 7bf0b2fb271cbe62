import type { AlarmSeverity, ConditionChange, ConditionLevel, ConditionType, Originator, OriginatorKind, Point } from '#libs/contracts/index.js';

/** `<enterprise>/<originator kind>:<code>/<condition>[:<name>]`: one alarm per key at a time. */
export function conditionKey(o: Originator, condition: ConditionType, name: string | null): string {
  return `${o.enterpriseCode}/${o.kind}:${o.code}/${condition}${name === null ? '' : `:${name}`}`;
}

export interface ParsedKey {
  readonly enterpriseCode: string;
  readonly kind: OriginatorKind;
  readonly code: string;
  readonly condition: ConditionType;
  readonly name: string | null;
}

export function parseConditionKey(key: string): ParsedKey | null {
  const m = /^([^/]+)\/(point|gateway|area|hazard_source|enterprise):([^/]+)\/([a-z_]+)(?::(.+))?$/.exec(key);
  if (!m) return null;
  return { enterpriseCode: m[1]!, kind: m[2] as OriginatorKind, code: m[3]!, condition: m[4] as ConditionType, name: m[5] ?? null };
}

export function pointOriginator(p: Point): Originator {
  return { kind: 'point', enterpriseCode: p.enterpriseCode, code: p.code, hazardSourceCode: p.hazardSourceCode, gatewayCode: p.gatewayCode };
}

export interface ChangeFields {
  readonly originator: Originator;
  readonly condition: ConditionType;
  readonly name?: string | null;
  readonly from: ConditionLevel | null;
  readonly to: ConditionLevel | null;
  readonly severity: AlarmSeverity;
  readonly value?: number | null;
  readonly threshold?: number | null;
  readonly unit?: string | null;
  readonly ts: number;
  readonly message: string;
}

/** A condition change; `key` may be passed when the caller keeps it (the same string object hashes once). */
export function change(f: ChangeFields, key?: string): ConditionChange {
  const name = f.name ?? null;
  return {
    key: key ?? conditionKey(f.originator, f.condition, name),
    originator: f.originator,
    condition: f.condition,
    name,
    from: f.from,
    to: f.to,
    severity: f.severity,
    value: f.value ?? null,
    threshold: f.threshold ?? null,
    unit: f.unit ?? null,
    ts: f.ts,
    message: f.message,
    chattering: false,
    floodKey: null,
  };
}

/** Numbers in messages: at most 3 significant decimals, no trailing zeros. */
export function num(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
