import { UNHANDLED, type Alarm, type ConditionChange, type ConditionLevel, type Enterprise, type Gateway, type Point, type PointLimits, type PointRules, type Reading, type RuleContext } from '#libs/contracts/index.js';

type PointOverrides = Omit<Partial<Point>, 'limits' | 'rules'> & { limits?: Partial<PointLimits>; rules?: Partial<PointRules> };

export function aPoint(overrides: PointOverrides = {}): Point {
  const { limits, rules, ...rest } = overrides;
  return {
    code: 'T101-TE',
    name: 'T-101 temperature',
    enterpriseCode: '91320594MA1WKTRP3E',
    gatewayCode: 'GW01',
    hazardSourceCode: 'TF-1',
    type: 'temperature',
    unit: '°C',
    substance: null,
    range: [-40, 150],
    deadband: 1,
    onDelayS: 0,
    offDelayS: 0,
    samplePeriodS: 60,
    priority: 'medium',
    role: null,
    origin: { file: 'test', path: 'enterprises[0].points[0]', profile: null, own: ['ll', 'l', 'h', 'hh', 'deadband'] },
    ...rest,
    rules: { rate: null, trend: null, stuck: null, noDataPeriods: 0, ...rules },
    limits: { ll: -10, l: 0, h: 40, hh: 50, ...limits },
  };
}

export function aReading(point: Point, value: number, ts = 1_700_000_000_000, quality: Reading['quality'] = 'good'): Reading {
  return { point, value, ts, quality };
}

export function aGateway(overrides: Partial<Gateway> = {}): Gateway {
  return { code: 'GW01', enterpriseCode: '91320594MA1WKTRP3E', credentialsRef: null, reportingPeriodS: 10, ...overrides };
}

/** A rule context of the given points, with their gateways derived unless given. */
export function aRuleContext(points: readonly Point[], extra: Partial<RuleContext> = {}): RuleContext {
  const gateways = new Map<string, Gateway>();
  for (const p of points) gateways.set(`${p.enterpriseCode}/${p.gatewayCode}`, aGateway({ code: p.gatewayCode, enterpriseCode: p.enterpriseCode }));
  return { points, gateways: [...gateways.values()], votingGroups: [], composites: [], electricity: [], ...extra };
}

/** A limit condition change of `point`, as the rule core emits it. */
export function aLimitChange(
  point: Point,
  from: ConditionLevel | null,
  to: ConditionLevel | null,
  value: number,
  ts: number,
  condition: 'limit_high' | 'limit_low' = 'limit_high',
): ConditionChange {
  const level = to ?? from;
  return {
    key: `${point.enterpriseCode}/point:${point.code}/${condition}`,
    originator: { kind: 'point', enterpriseCode: point.enterpriseCode, code: point.code, hazardSourceCode: point.hazardSourceCode, gatewayCode: point.gatewayCode },
    condition,
    name: null,
    from,
    to,
    severity: level === 'HH' || level === 'LL' ? 'critical' : 'major',
    value,
    threshold: level === 'HH' ? point.limits.hh : level === 'H' ? point.limits.h : level === 'L' ? point.limits.l : point.limits.ll,
    unit: point.unit,
    ts,
    message: `${point.name}: ${value} ${point.unit}`,
    chattering: false,
    floodKey: null,
  };
}

/** An active, unacknowledged HH alarm of T101-TE raised at `raisedAt`, with any field overridden. */
export function anAlarm(overrides: Partial<Alarm> = {}, raisedAt = '2026-11-25T09:48:00.000Z'): Alarm {
  return {
    id: `alarm-${Math.random().toString(36).slice(2)}`,
    key: '91320594MA1WKTRP3E/point:T101-TE/limit_high',
    originatorKind: 'point',
    originatorCode: 'T101-TE',
    enterpriseCode: '91320594MA1WKTRP3E',
    gatewayCode: 'GW01',
    hazardSourceCode: 'TF-1',
    pointCode: 'T101-TE',
    condition: 'limit_high',
    name: null,
    level: 'HH',
    severity: 'critical',
    status: 'ACTIVE_UNACK',
    value: 55,
    peakValue: 55,
    threshold: 50,
    unit: '°C',
    message: 'T-101 temperature: 55 °C ≥ HH 50 °C',
    chattering: false,
    floodKey: null,
    raisedAt,
    detectedAt: raisedAt,
    updatedAt: raisedAt,
    clearedAt: null,
    ...UNHANDLED,
    ...overrides,
  };
}

/** The demo registry's Suzhou enterprise (county 320594 of city 320500), with one duty contact. */
export function anEnterprise(overrides: Partial<Enterprise> = {}): Enterprise {
  return {
    code: '91320594MA1WKTRP3E',
    name: '苏州示范化工有限公司',
    industry: 'hazardous_chemicals',
    regionCode: '320594',
    region: { code: '320594', province: '320000', city: '320500', county: '320594' },
    dutyContacts: [{ name: '王工', role: null, phone: '+8651260000001' }],
    ...overrides,
  };
}
