import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Alarm, AuditEntry, Enterprise } from '#libs/contracts/index.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { login, signedIn, TEST_ADMIN_PASSWORD, type LoginAnswer } from './support/auth.js';
import { alarmWhere, RecordingWsClient } from './support/ws-client.js';

const SUZHOU = '91320594MA1WKTRP3E'; // county 320594
const JINING = '91370800MA3CD7LN28'; // county 370811 in city 370800
const PASSWORD = 'correct horse battery';

/** Each test client comes through the trusted proxy with an address of its own, so login limits do not mix. */
const via = (address: string) => ({ 'x-forwarded-for': address });

async function loginFrom(url: string, address: string, username: string, password = PASSWORD): Promise<Response> {
  return globalThis.fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...via(address) }, body: JSON.stringify({ username, password }) });
}

describe('identity and jurisdiction at the front door (REST, WebSocket, audit)', () => {
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let admin: typeof fetch;
  let suzhouAlarm: Alarm;
  let jiningAlarm: Alarm;
  const tokens: Record<string, string> = {};
  const as = (user: string) => (path: string, init: RequestInit = {}) =>
    globalThis.fetch(`${monitor.url}${path}`, { ...init, headers: { authorization: `Bearer ${tokens[user]}`, ...via(`10.0.0.${Object.keys(tokens).indexOf(user) + 10}`), ...(init.headers as Record<string, string> | undefined) } });
  const post = (user: string, path: string, body: unknown) => as(user)(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    monitor = await startMonitor(testConfig({ auth: { adminPassword: TEST_ADMIN_PASSWORD, loginPerMinute: 10, trustedProxies: ['127.0.0.1'], loginMaxFailures: 3 } }));
    admin = await signedIn(monitor.url);
    const identity = monitor.runtime.auth.identity;
    await identity.addUser({ username: 'suzhou-sup', role: 'supervisor', jurisdiction: { regionCode: '320594' }, password: PASSWORD });
    await identity.addUser({ username: 'jining-sup', role: 'supervisor', jurisdiction: { regionCode: '370800' }, password: PASSWORD });
    await identity.addUser({ username: 'jining-op', role: 'enterprise_operator', jurisdiction: { enterpriseCodes: [JINING] }, password: PASSWORD });
    await identity.addUser({ username: 'watcher', role: 'viewer', jurisdiction: { all: true }, password: PASSWORD });
    for (const [i, user] of ['suzhou-sup', 'jining-sup', 'jining-op', 'watcher'].entries()) {
      tokens[user] = ((await (await loginFrom(monitor.url, `10.0.1.${i}`, user)).json()) as LoginAnswer).token;
    }
    gateway = await connectAsync(monitor.mqttUrl, { clientId: `security-e2e-${Date.now()}` });
    const ws = await RecordingWsClient.ofMonitor(monitor.url, (await login(monitor.url)).token);
    await gateway.publishAsync(`sites/${SUZHOU}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'T101-TE', value: 60 }] }), { qos: 1 });
    await gateway.publishAsync(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-DP', value: 2000 }] }), { qos: 1 });
    suzhouAlarm = (await ws.waitFor(alarmWhere({ pointCode: 'T101-TE' }))).alarm as Alarm;
    jiningAlarm = (await ws.waitFor(alarmWhere({ pointCode: 'DC1-DP' }))).alarm as Alarm;
    ws.close();
  });

  afterAll(async () => {
    await gateway?.endAsync();
    await monitor?.close();
  });

  it('answers the pinned login contract, and 401 without a token on every /api route but the login', async () => {
    const res = await loginFrom(monitor.url, '10.0.2.1', 'jining-op');
    expect(res.status).toBe(200);
    const body = (await res.json()) as LoginAnswer;
    expect(body).toEqual({ token: expect.any(String) as unknown, expiresAt: expect.any(String) as unknown, user: { username: 'jining-op', role: 'enterprise_operator', jurisdiction: { enterpriseCodes: [JINING] } } });
    expect(res.headers.get('set-cookie')).toMatch(/^sentinel_session=.+; Path=\/; HttpOnly; SameSite=Strict/);
    for (const path of ['/api/alarms', '/api/points', '/api/enterprises', '/api/risk/enterprises', '/api/reports/alarms', `/api/points/${SUZHOU}/T101-TE/series`, '/api/audit', '/api/auth/me']) {
      const anonymous = await globalThis.fetch(`${monitor.url}${path}`);
      expect(anonymous.status, path).toBe(401);
    }
    expect((await globalThis.fetch(`${monitor.url}/api/alarms`, { headers: { authorization: 'Bearer sts_not-a-token' } })).status).toBe(401);
    expect(await (await globalThis.fetch(`${monitor.url}/api/auth/me`)).json()).toMatchObject({ statusCode: 401, signIn: { password: true, oidc: false } });
    expect((await loginFrom(monitor.url, '10.0.2.2', 'jining-op', 'wrong password!')).status).toBe(401);
    // /health is open with ok/degraded only; the detail is for signed-in callers.
    expect(Object.keys((await (await globalThis.fetch(`${monitor.url}/health`)).json()) as object)).toEqual(['status']);
    expect(await (await admin(`${monitor.url}/health`)).json()).toMatchObject({ status: 'ok', broker: { embedded: true }, stores: { alarms: { ok: true } } });
  });

  it('shows a supervisor only its region on REST: alarms, enterprises, points, risk; and 403 for what lies outside', async () => {
    const alarms = (await (await as('jining-sup')('/api/alarms?state=active')).json()) as Alarm[];
    expect(alarms.map((a) => a.enterpriseCode)).toEqual([JINING]);
    const suzhouView = (await (await as('suzhou-sup')('/api/alarms?state=active')).json()) as Alarm[];
    expect(suzhouView.map((a) => a.pointCode)).toEqual(['T101-TE']);
    expect(((await (await as('jining-sup')('/api/enterprises')).json()) as Enterprise[]).map((e) => e.code)).toEqual([JINING]);
    const points = (await (await as('jining-sup')('/api/points')).json()) as { enterpriseCode: string }[];
    expect(points.length).toBeGreaterThan(0);
    expect(new Set(points.map((p) => p.enterpriseCode))).toEqual(new Set([JINING]));
    const risk = (await (await as('jining-sup')('/api/risk/enterprises')).json()) as { enterpriseCode: string }[];
    expect(risk.map((r) => r.enterpriseCode)).toEqual([JINING]);

    const foreignAlarm = await as('jining-sup')(`/api/alarms/${encodeURIComponent(suzhouAlarm.id)}`);
    expect(foreignAlarm.status).toBe(403);
    expect(((await foreignAlarm.json()) as { message: string }).message).toBe(`alarm ${suzhouAlarm.id} is outside your jurisdiction`);
    for (const path of [`/api/enterprises/${SUZHOU}`, `/api/points/${SUZHOU}/T101-TE`, `/api/points/${SUZHOU}/T101-TE/series`, `/api/points?enterpriseCode=${SUZHOU}`, `/api/hazard-sources/${SUZHOU}/TF-1`]) {
      const res = await as('jining-sup')(path);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { message: string }).message).toBe(`enterprise ${SUZHOU} is outside your jurisdiction`);
    }
    // The same answer for a thing that does not exist there: the 403 says no more than the URL.
    expect((await as('jining-sup')(`/api/points/${SUZHOU}/NO-SUCH-POINT`)).status).toBe(403);
  });

  it('lets an enterprise operator see and handle only its own enterprise', async () => {
    expect(((await (await as('jining-op')('/api/points')).json()) as { enterpriseCode: string }[]).every((p) => p.enterpriseCode === JINING)).toBe(true);
    expect((await as('jining-op')(`/api/points/${SUZHOU}/T101-TE`)).status).toBe(403);
    expect((await post('jining-op', `/api/alarms/${encodeURIComponent(suzhouAlarm.id)}/ack`, {})).status).toBe(403);
    // An enterprise does not shelve its own alarms: that is the supervisor's call.
    expect((await post('jining-op', `/api/alarms/${encodeURIComponent(jiningAlarm.id)}/shelve`, { reason: 'x', forS: 60 })).status).toBe(403);
    const ack = await post('jining-op', `/api/alarms/${encodeURIComponent(jiningAlarm.id)}/ack`, {});
    expect(ack.status).toBe(200);
    expect(((await ack.json()) as Alarm).acknowledged).toMatchObject({ by: 'jining-op' });
    // `by` must be the signed-in user when an older client still sends it.
    const claimed = await post('jining-op', `/api/alarms/${encodeURIComponent(jiningAlarm.id)}/comments`, { by: 'someone-else', text: 'x' });
    expect(claimed.status).toBe(400);
  });

  it('refuses a supervisor the acknowledgement of an alarm outside its region, and of one not yet escalated, and audits both', async () => {
    const outside = await post('jining-sup', `/api/alarms/${encodeURIComponent(suzhouAlarm.id)}/ack`, {});
    expect(outside.status).toBe(403);
    const early = await post('suzhou-sup', `/api/alarms/${encodeURIComponent(suzhouAlarm.id)}/ack`, {});
    expect(early.status).toBe(403);
    expect(((await early.json()) as { message: string }).message).toMatch(/escalated beyond the enterprise/);
    const entries = (await (await admin(`${monitor.url}/api/audit?limit=5000`)).json()) as AuditEntry[];
    const denied = entries.filter((e) => e.action === 'access_denied' && e.alarmId === suzhouAlarm.id && e.detail.method === 'POST' && e.actor.endsWith('-sup'));
    expect(denied.map((e) => e.actor).sort()).toEqual(['jining-sup', 'suzhou-sup']);
    expect(denied.every((e) => /^10\.0\.0\.\d+ \(session:[0-9a-f]+\)$/.test(e.origin))).toBe(true);
    expect(monitor.runtime.pipeline.book.find(suzhouAlarm.id)?.status).toBe('ACTIVE_UNACK');
  });

  it('refuses a viewer every act, and records the acting user and client address (via the trusted proxy) in the audit', async () => {
    expect((await post('watcher', `/api/alarms/${encodeURIComponent(suzhouAlarm.id)}/ack`, {})).status).toBe(403);
    expect((await post('watcher', `/api/points/${SUZHOU}/T101-TE/out-of-service`, { reason: 'x', forS: 60 })).status).toBe(403);
    const trail = (await (await admin(`${monitor.url}/api/alarms/${encodeURIComponent(jiningAlarm.id)}/audit`)).json()) as AuditEntry[];
    const ack = trail.find((e) => e.action === 'ack')!;
    expect(ack.actor).toBe('jining-op');
    expect(ack.origin).toMatch(/^10\.0\.0\.\d+ \(session:[0-9a-f]+\)$/);
    expect((await (await admin(`${monitor.url}/api/audit/verify`)).json())).toMatchObject({ ok: true });
  });

  it('refuses a cross-site form post and a JSON post from another origin, changing nothing', async () => {
    const path = `${monitor.url}/api/alarms/${encodeURIComponent(suzhouAlarm.id)}/ack`;
    const form = await admin(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'by=attacker' });
    expect(form.status).toBe(415);
    const text = await admin(path, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(text.status).toBe(415);
    const foreign = await admin(path, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' });
    expect(foreign.status).toBe(403);
    expect(monitor.runtime.pipeline.book.find(suzhouAlarm.id)?.status).toBe('ACTIVE_UNACK');
    const preflight = await globalThis.fetch(path, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends security headers and no framework banner', async () => {
    const res = await globalThis.fetch(`${monitor.url}/`);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('filters the WebSocket to the jurisdiction, and refuses an upgrade without a token or from a foreign origin', async () => {
    const ws = await RecordingWsClient.ofMonitor(monitor.url, tokens['jining-sup']);
    const snapshot = ws.frames[0]!;
    expect((snapshot.alarms as Alarm[]).map((a) => a.id)).toContain(jiningAlarm.id);
    expect((snapshot.alarms as Alarm[]).every((a) => a.enterpriseCode === JINING)).toBe(true);
    expect((snapshot.values as { enterpriseCode: string }[]).every((v) => v.enterpriseCode === JINING)).toBe(true);
    await gateway.publishAsync(`sites/${SUZHOU}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'T102-TE', value: 60 }] }), { qos: 1 });
    await gateway.publishAsync(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-DP', value: 100 }] }), { qos: 1 });
    const seen = await ws.waitFor(alarmWhere({ pointCode: 'DC1-DP', status: 'CLEARED_ACK' }));
    expect(seen.seq).toBe(1);
    await ws.waitFor((f) => f.type === 'reading' && (f.readings as { point: string }[]).some((r) => r.point === 'DC1-DP'));
    expect(ws.frames.filter((f) => f.type === 'alarm').every((f) => (f.alarm as Alarm).enterpriseCode === JINING)).toBe(true);
    expect(ws.frames.filter((f) => f.type === 'reading').flatMap((f) => (f.readings as { enterpriseCode: string }[]).map((r) => r.enterpriseCode))).not.toContain(SUZHOU);
    ws.close();

    const wsUrl = `${monitor.url.replace('http', 'ws')}/ws`;
    const refusal = (options: ConstructorParameters<typeof WebSocket>[2], url = wsUrl) =>
      new Promise<number>((resolve, reject) => {
        const raw = new WebSocket(url, options);
        raw.on('error', () => undefined);
        raw.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          raw.terminate();
        });
        raw.once('open', () => reject(new Error('upgrade accepted')));
      });
    expect(await refusal({})).toBe(401);
    expect(await refusal({ headers: { authorization: 'Bearer sts_forged' } })).toBe(401);
    expect(await refusal({ headers: { authorization: `Bearer ${tokens['jining-sup']}`, origin: 'https://evil.example' } })).toBe(403);
    const byQuery = await RecordingWsClient.connect(`${wsUrl}?access_token=${tokens['watcher']}`);
    await byQuery.waitFor((f) => f.type === 'snapshot');
    byQuery.close();
  });

  it('ends a session at logout and a disabled user at once; an API token is scoped, hashed at rest and revocable', async () => {
    const session = ((await (await loginFrom(monitor.url, '10.0.3.1', 'watcher')).json()) as LoginAnswer).token;
    const me = (token: string) => globalThis.fetch(`${monitor.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me(session)).status).toBe(200);
    expect((await globalThis.fetch(`${monitor.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${session}` } })).status).toBe(200);
    expect((await me(session)).status).toBe(401);

    const created = await admin(`${monitor.url}/api/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'city screen', role: 'viewer', jurisdiction: { enterpriseCodes: [JINING] }, expiresInDays: 30 }) });
    expect(created.status).toBe(201);
    const { token, id } = (await created.json()) as { token: string; id: string };
    const machine = (path: string) => globalThis.fetch(`${monitor.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await (await machine('/api/alarms?state=active')).json()) as Alarm[]).every((a) => a.enterpriseCode === JINING)).toBe(true);
    expect((await machine(`/api/points/${SUZHOU}/T101-TE`)).status).toBe(403);
    expect(JSON.stringify(monitor.runtime.auth.identity.apiTokens())).not.toContain(token);
    expect((await admin(`${monitor.url}/api/auth/tokens/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await machine('/api/alarms')).status).toBe(401);
    // Only an admin makes tokens.
    expect((await post('jining-sup', '/api/auth/tokens', { name: 'x', role: 'viewer', jurisdiction: { all: true } })).status).toBe(403);

    monitor.runtime.auth.identity.setDisabled('suzhou-sup', true);
    expect((await as('suzhou-sup')('/api/alarms')).status).toBe(401);
  });

  it('guards /metrics with a token of role admin or metrics', async () => {
    expect((await globalThis.fetch(`${monitor.url}/metrics`)).status).toBe(401);
    expect((await as('watcher')('/metrics')).status).toBe(403);
    const created = (await (await admin(`${monitor.url}/api/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'prometheus', role: 'metrics', jurisdiction: { all: true } }) })).json()) as { token: string };
    const scrape = await globalThis.fetch(`${monitor.url}/metrics`, { headers: { authorization: `Bearer ${created.token}` } });
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('sentinel_readings_total');
    expect((await globalThis.fetch(`${monitor.url}/api/alarms`, { headers: { authorization: `Bearer ${created.token}` } })).status).toBe(403);
  });

  it('locks an account after repeated wrong passwords, even for the right one, and limits login attempts per address', async () => {
    for (let i = 0; i < 2; i++) expect((await loginFrom(monitor.url, '10.0.4.1', 'jining-sup', 'wrong password!')).status).toBe(401);
    const locked = await loginFrom(monitor.url, '10.0.4.1', 'jining-sup', 'wrong password!');
    expect(locked.status).toBe(423);
    expect((await loginFrom(monitor.url, '10.0.4.2', 'jining-sup')).status).toBe(423);
    const entries = (await (await admin(`${monitor.url}/api/audit?limit=5000`)).json()) as AuditEntry[];
    expect(entries.filter((e) => e.action === 'login_failed' && e.detail.username === 'jining-sup').map((e) => e.detail.reason)).toEqual(['invalid', 'invalid', 'locked', 'locked']);

    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await loginFrom(monitor.url, '10.0.5.1', 'nobody', 'wrong password!')).status);
    // An unknown name locks like a known one (401, 401, 423 …), so the answers do not tell whether it exists.
    expect(statuses.slice(0, 10)).toEqual([401, 401, 423, 423, 423, 423, 423, 423, 423, 423]);
    expect(statuses[10]).toBe(429);
    // Another address is not held back by the first one's attempts.
    expect((await loginFrom(monitor.url, '10.0.5.2', 'nobody-else', 'wrong password!')).status).toBe(401);
  });

  describe('regressions from the adversarial review', () => {
    it('refuses an upgrade with a malformed session cookie and keeps running', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const raw = new WebSocket(`${monitor.url.replace('http', 'ws')}/ws`, { headers: { cookie: 'sentinel_session=%E0' } });
        raw.on('error', () => undefined);
        raw.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          raw.terminate();
        });
        raw.once('open', () => reject(new Error('upgrade accepted')));
      });
      expect(status).toBe(401);
      expect((await globalThis.fetch(`${monitor.url}/health`)).status).toBe(200);
    });

    it('locks an account when wrong passwords arrive all at once, and then refuses the right one', async () => {
      await monitor.runtime.auth.identity.addUser({ username: 'raced', role: 'viewer', jurisdiction: { all: true }, password: PASSWORD });
      const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => loginFrom(monitor.url, `10.0.6.${i}`, 'raced', 'wrong password!').then((r) => r.status)));
      expect(statuses).toContain(423);
      expect((await loginFrom(monitor.url, '10.0.6.100', 'raced')).status).toBe(423);
    });

    it('answers an unknown name like a known one: 401 until locked, then 423', async () => {
      const answers = async (username: string): Promise<number[]> => {
        const out: number[] = [];
        for (let i = 0; i < 4; i++) out.push((await loginFrom(monitor.url, `10.0.7.${i}`, username, 'wrong password!')).status);
        return out;
      };
      await monitor.runtime.auth.identity.addUser({ username: 'real-one', role: 'viewer', jurisdiction: { all: true }, password: PASSWORD });
      expect(await answers('no-such-one')).toEqual(await answers('real-one'));
    });

    it('closes the WebSockets of a session at its logout, at once', async () => {
      const { token } = (await (await loginFrom(monitor.url, '10.0.8.1', 'watcher')).json()) as LoginAnswer;
      const ws = await RecordingWsClient.ofMonitor(monitor.url, token);
      await globalThis.fetch(`${monitor.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(await ws.closed).toBe(4401);
    });

    it("refuses an API token once its creator is disabled, and a regional admin's reach over tokens and the whole platform", async () => {
      const identity = monitor.runtime.auth.identity;
      await identity.addUser({ username: 'city-admin', role: 'admin', jurisdiction: { regionCode: '370800' }, password: PASSWORD });
      const cityAdmin = ((await (await loginFrom(monitor.url, '10.0.9.1', 'city-admin')).json()) as LoginAnswer).token;
      const call = (path: string, init: RequestInit = {}) => globalThis.fetch(`${monitor.url}${path}`, { ...init, headers: { authorization: `Bearer ${cityAdmin}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
      const made = (await (await call('/api/auth/tokens', { method: 'POST', body: JSON.stringify({ name: 'jining screen', role: 'viewer', jurisdiction: { enterpriseCodes: [JINING] } }) })).json()) as { token: string };
      const national = (await (await admin(`${monitor.url}/api/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'national screen', role: 'viewer', jurisdiction: { all: true } }) })).json()) as { id: string };
      const listed = (await (await call('/api/auth/tokens')).json()) as { id: string }[];
      expect(listed.map((t) => t.id)).not.toContain(national.id);
      expect((await call(`/api/auth/tokens/${national.id}`, { method: 'DELETE' })).status).toBe(403);
      expect((await call('/api/registry/reload', { method: 'POST' })).status).toBe(403);
      expect((await call('/api/audit/verify')).status).toBe(403);

      const screen = (path: string) => globalThis.fetch(`${monitor.url}${path}`, { headers: { authorization: `Bearer ${made.token}` } });
      expect((await screen('/api/alarms')).status).toBe(200);
      identity.setDisabled('city-admin', true);
      expect((await screen('/api/alarms')).status).toBe(401);
    });

    it('answers 400, not 500, to a repeated query parameter, and 404 to a verb that is only an object property', async () => {
      expect((await as('jining-sup')(`/api/alarms?enterpriseCode=${JINING}&enterpriseCode=${SUZHOU}`)).status).toBe(400);
      expect((await post('watcher', `/api/alarms/${encodeURIComponent(suzhouAlarm.id)}/constructor`, {})).status).toBe(404);
      expect((await admin(`${monitor.url}/api/alarms/${encodeURIComponent(suzhouAlarm.id)}/constructor`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    });

    it('lets no API token mint another, which could outlive it', async () => {
      const made = (await (await admin(`${monitor.url}/api/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'one day', role: 'admin', jurisdiction: { all: true }, expiresInDays: 1 }) })).json()) as { token: string };
      const minted = await globalThis.fetch(`${monitor.url}/api/auth/tokens`, { method: 'POST', headers: { authorization: `Bearer ${made.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forever', role: 'admin', jurisdiction: { all: true } }) });
      expect(minted.status).toBe(403);
    });

    it('audits refusals at a bounded rate, so that anonymous requests cannot flood the audit chain', async () => {
      const before = monitor.runtime.auditLog.verify().entries;
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          globalThis.fetch(`${monitor.url}/api/alarms/x/ack?${'p'.repeat(i * 100)}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example', ...via('10.0.10.1') }, body: '{}' }),
        ),
      );
      const added = monitor.runtime.auditLog.verify().entries - before;
      expect(added).toBeLessThanOrEqual(1);
    });

    it('survives clients that reset the connection while a WebSocket upgrade is refused', async () => {
      const { connect } = await import('node:net');
      const port = Number(new URL(monitor.url).port);
      for (let i = 0; i < 10; i++) {
        await new Promise<void>((done) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
            socket.resetAndDestroy();
            done();
          });
          socket.on('error', () => done());
        });
      }
      expect((await globalThis.fetch(`${monitor.url}/health`)).status).toBe(200);
    });

    it('counts only the jurisdiction in the registry summary', async () => {
      const summary = (await (await as('jining-sup')('/api/registry')).json()) as { enterprises: number; points: number; lastReload: unknown };
      expect(summary.enterprises).toBe(1);
      expect(summary.lastReload).toBeNull();
      const whole = (await (await admin(`${monitor.url}/api/registry`)).json()) as { enterprises: number; points: number };
      expect(whole.enterprises).toBe(2);
      expect(summary.points).toBeLessThan(whole.points);
    });
  });
});
