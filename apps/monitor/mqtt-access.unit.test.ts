import { describe, expect, it } from 'vitest';
import type { Authentication, BrokerAuthority } from '#libs/broker-aedes/index.js';
import { throttleFailures } from './mqtt-access.js';

describe('throttleFailures', () => {
  it('stops checking passwords for an address after 10 failures in a minute, and lets it try again after', async () => {
    let checks = 0;
    const inner: BrokerAuthority = {
      authenticate: (_u, password): Promise<Authentication> => {
        checks++;
        return Promise.resolve(password === 'right' ? { ok: true, gateway: { enterpriseCode: 'E', gatewayCode: 'G' } } : { ok: false, reason: 'wrong password' });
      },
      authenticateCertificate: () => ({ ok: false, reason: 'no' }),
      publishRefusal: () => null,
    };
    let now = 0;
    const auth = throttleFailures(inner, () => now);
    for (let i = 0; i < 10; i++) expect((await auth.authenticate('E/G', 'wrong', 'c', '10.0.0.1')).ok).toBe(false);
    expect(await auth.authenticate('E/G', 'right', 'c', '10.0.0.1')).toEqual({ ok: false, reason: 'too many failed logins from 10.0.0.1; wait a minute' });
    expect(checks).toBe(10);
    expect((await auth.authenticate('E/G', 'right', 'c', '10.0.0.2')).ok).toBe(true);
    now += 60_001;
    expect((await auth.authenticate('E/G', 'right', 'c', '10.0.0.1')).ok).toBe(true);
  });
});
