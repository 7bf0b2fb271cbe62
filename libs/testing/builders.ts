import type { LimitTransition, Point, PointLimits, Reading } from '#libs/contracts/index.js';

export function aPoint(overrides: Omit<Partial<Point>, 'limits'> & { limits?: Partial<PointLimits> } = {}): Point {
  const { limits, ...rest } = overrides;
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
    origin: { file: 'test', path: 'enterprises[0].points[0]', profile: null, own: ['ll', 'l', 'h', 'hh', 'deadband'] },
    ...rest,
    limits: { ll: -10, l: 0, h: 40, hh: 50, ...limits },
  };
}

export function aReading(point: Point, value: number, ts = 1_700_000_000_000, quality: Reading['quality'] = 'good'): Reading {
  return { point, value, ts, quality };
}

/** A limit transition of `point`; the side defaults to high. */
export function aTransition(
  point: Point,
  from: LimitTransition['from'],
  to: LimitTransition['to'],
  value: number,
  threshold: number,
  ts: number,
  side: LimitTransition['side'] = 'high',
): LimitTransition {
  return { point, side, from, to, value, threshold, ts };
}
