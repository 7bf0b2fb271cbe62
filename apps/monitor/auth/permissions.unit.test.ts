import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import type { Alarm, Role, Subject } from '#libs/contracts/index.js';
import { Registry } from '#libs/registry/index.js';
import { AlarmsController } from '../alarms.controller.js';
import { ApiController, HealthController } from '../api.controllers.js';
import { RegistryController } from '../registry.controller.js';
import { RiskController } from '../risk.controller.js';
import { SeriesController } from '../series.controller.js';
import { Access } from './access.js';
import { AuthController } from './auth.controller.js';
import { OidcController } from './oidc.controller.js';
import { PERMIT, PUBLIC } from './decorators.js';
import { refusal } from './permissions.js';

const registry = Registry.build([], []);

function accessOf(role: Role, jurisdiction: Subject['jurisdiction']): Access {
  return new Access({ username: 'u', role, jurisdiction, tokenId: 'session:1', kind: 'session', expiresAt: null }, registry);
}

const alarm = (enterpriseCode: string, level: 'enterprise' | 'county' | 'city' = 'enterprise') => ({ id: `alarm-of-${enterpriseCode}`, enterpriseCode, escalation: { level, steps: [] } }) as unknown as Alarm;

describe('the permission table', () => {
  it('is declared on every route: a route without @Permit or @Public would be refused to everyone', () => {
    const missing: string[] = [];
    let routes = 0;
    for (const controller of [HealthController, AuthController, OidcController, ApiController, AlarmsController, RiskController, RegistryController, SeriesController]) {
      const proto = controller.prototype as object;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler: unknown = Object.getOwnPropertyDescriptor(proto, name)?.value;
        if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata('path', handler) === undefined) continue;
        routes++;
        if (Reflect.getMetadata(PERMIT, handler) === undefined && Reflect.getMetadata(PUBLIC, handler) !== true) missing.push(`${controller.name}.${name}`);
      }
    }
    expect(routes).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });

  it('lets each role do its part within its jurisdiction', () => {
    const op = accessOf('enterprise_operator', { enterpriseCodes: ['E1'] });
    expect(refusal(op, 'alarm.dispose', { alarm: alarm('E1') })).toBeNull();
    expect(refusal(op, 'alarm.dispose', { alarm: alarm('E2') })).toBe('alarm alarm-of-E2 is outside your jurisdiction');
    expect(refusal(op, 'alarm.shelve', { alarm: alarm('E1') })).toBe('role enterprise_operator may not alarm.shelve');
    const sup = accessOf('supervisor', { enterpriseCodes: ['E1'] });
    expect(refusal(sup, 'alarm.ack', { alarm: alarm('E1') })).toMatch(/escalated beyond the enterprise/);
    expect(refusal(sup, 'alarm.ack', { alarm: alarm('E1', 'county') })).toBeNull();
    expect(refusal(sup, 'alarm.dispose', { alarm: alarm('E1', 'county') })).toBe('role supervisor may not alarm.dispose');
    expect(refusal(accessOf('viewer', { all: true }), 'alarm.ack', { alarm: alarm('E1') })).toBe('role viewer may not alarm.ack');
    expect(refusal(accessOf('commander', { enterpriseCodes: ['E1'] }), 'point.maintenance', { enterpriseCode: 'E1' })).toBeNull();
    expect(refusal(accessOf('metrics', { all: true }), 'read')).toBe('role metrics may not read');
    expect(refusal(accessOf('admin', { regionCode: '370800' }), 'registry.reload')).toBe('registry.reload is for callers whose jurisdiction is everything');
    expect(refusal(accessOf('admin', { all: true }), 'registry.reload')).toBeNull();
  });

  it("shows the platform's own alarms to every operator, and lets only commanders and admins act on them", () => {
    const system = { alarm: alarm('system') };
    expect(refusal(accessOf('viewer', { enterpriseCodes: ['E1'] }), 'read', system)).toBeNull();
    expect(refusal(accessOf('enterprise_operator', { enterpriseCodes: ['E1'] }), 'alarm.ack', system)).toMatch(/platform's own alarms/);
    expect(refusal(accessOf('commander', { regionCode: '370800' }), 'alarm.ack', system)).toBeNull();
  });
});
