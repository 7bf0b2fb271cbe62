import { connectAsync, type MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Chromium } from '#libs/testing/chromium.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { TEST_ADMIN_PASSWORD } from './support/auth.js';

const SUZHOU = '91320594MA1WKTRP3E';
const JINING = '91370800MA3CD7LN28';
const PASSWORD = 'page-auth-password-1';

/** The command-centre page's sign-in, in headless Chromium: who sees what, and what they may do. */
describe('command-centre page sign-in', () => {
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let chromium: Chromium;
  let page: Page;
  const problems: string[] = [];

  const publish = (enterprise: string, readings: { point: string; value: number }[]) =>
    gateway.publishAsync(`sites/${enterprise}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings }), { qos: 1 });

  async function signIn(username: string, password = PASSWORD): Promise<void> {
    await page.locator('#login-form').waitFor();
    await page.fill('#login-username', username);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
  }

  async function signOut(): Promise<void> {
    await page.click('#logout');
    await page.locator('#login-form').waitFor();
  }

  beforeAll(async () => {
    monitor = await startMonitor(testConfig());
    const { identity } = monitor.runtime.auth;
    await identity.addUser({ username: 'qian', role: 'viewer', jurisdiction: { regionCode: '320594' }, password: PASSWORD });
    await identity.addUser({ username: 'sun', role: 'enterprise_operator', jurisdiction: { enterpriseCodes: [JINING] }, password: PASSWORD });
    await identity.addUser({ username: 'zhao', role: 'enterprise_operator', jurisdiction: { enterpriseCodes: [SUZHOU] }, password: PASSWORD });
    gateway = await connectAsync(monitor.mqttUrl, { clientId: `page-auth-e2e-${Date.now()}` });
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    // Script errors and Content-Security-Policy violations, checked at the end (refused requests the page expects are neither).
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(msg.text());
    });
    await page.goto(monitor.url);
  });

  afterAll(async () => {
    await chromium?.close();
    await gateway?.endAsync();
    await monitor?.close();
  });

  it('keeps a wrong password on the form and says why in words', async () => {
    await signIn('admin', 'not-the-admin-password');
    await page.locator('#login-error', { hasText: 'Wrong username or password' }).waitFor();
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(await page.inputValue('#login-password')).toBe('');

    // A locked account and too many attempts, as the server words them (answered here without spending the real limits).
    const until = '2030-01-02T03:04:05.000Z';
    await page.route('**/api/auth/login', (route) =>
      route.fulfill({ status: 423, contentType: 'application/json', body: JSON.stringify({ statusCode: 423, message: `account locked after repeated failures until ${until}` }) }),
    );
    await signIn('admin', 'whatever-password');
    await page.locator('#login-error', { hasText: 'Account locked until' }).waitFor();
    expect(await page.locator('#login-error').textContent()).toContain(await page.evaluate((iso) => new Date(iso).toLocaleString(), until));
    await page.unroute('**/api/auth/login');
    await page.route('**/api/auth/login', (route) => route.fulfill({ status: 429, contentType: 'application/json', body: '{"statusCode":429,"message":"ThrottlerException: Too Many Requests"}' }));
    await signIn('admin', 'whatever-password');
    await page.locator('#login-error', { hasText: 'Too many sign-in attempts' }).waitFor();
    await page.unroute('**/api/auth/login');
    expect(await page.locator('#app').isHidden()).toBe(true);
  });

  it('shows a viewer the alarm and who they are, without an acknowledge button', async () => {
    await signIn('qian');
    await page.locator('#whoami', { hasText: 'qian · viewer · 320594' }).waitFor();
    await page.locator('.conn.up').waitFor();
    expect(await page.locator('#login').isHidden()).toBe(true);

    await publish(SUZHOU, [{ point: 'T101-TE', value: 55.5 }]);
    const row = page.locator('tr.alarm', { hasText: 'T101-TE' });
    await row.waitFor();
    expect(await row.textContent()).toContain('HH');
    expect(await row.locator('button.ack').count()).toBe(0);
    expect(await page.locator('button.ack').count()).toBe(0);
    await signOut();
  });

  it("keeps the other enterprise's alarm from an enterprise operator", async () => {
    await signIn('sun');
    await page.locator('#whoami', { hasText: `sun · enterprise_operator · ${JINING}` }).waitFor();
    // An alarm of their own enterprise shows, with the button to acknowledge it; Suzhou's, raised before, does not.
    await publish(JINING, [{ point: 'DC1-DP', value: 1900 }]);
    const own = page.locator('tr.alarm', { hasText: 'DC1-DP' });
    await own.locator('button.ack').waitFor();
    expect(await page.locator('tr.alarm', { hasText: 'T101-TE' }).count()).toBe(0);
    // Nor does a Suzhou alarm raised now: frames arrive in order, so the next Jining alarm comes after it would have.
    await publish(SUZHOU, [{ point: 'T101-PT', value: 25 }]);
    await publish(JINING, [{ point: 'DC1-DP', value: 100 }]);
    await page.locator('tr.alarm', { hasText: 'DC1-DP' }).filter({ hasText: 'LL' }).waitFor();
    expect(await page.locator('tr.alarm', { hasText: 'T101' }).count()).toBe(0);
    expect(await page.locator('.tile[data-point="T101-TE"]').count()).toBe(0);
    expect(await page.locator('.tile[data-point="DC1-DP"]').count()).toBe(1);
    await signOut();
  });

  it('goes back to the form when the session ends: an API call answering 401, or the WebSocket closed with 4401', async () => {
    const { identity } = monitor.runtime.auth;
    await signIn('zhao');
    await page.locator('#whoami', { hasText: `zhao · enterprise_operator · ${SUZHOU}` }).waitFor();
    const row = page.locator('tr.alarm', { hasText: 'T101-TE' });
    await row.locator('button.ack').waitFor();
    // Everything loaded: the next request is the acknowledgement below.
    await page.locator('body[data-ready="1"]').waitFor();
    identity.setDisabled('zhao', true);
    await row.locator('button.ack').click();
    await page.click('#action-ok');
    await page.locator('#login-error', { hasText: 'session has ended' }).waitFor();
    expect(await page.locator('#action-dialog').getAttribute('open')).toBeNull();
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(await page.locator('tr.alarm').count()).toBe(0);

    identity.setDisabled('zhao', false);
    await signIn('zhao');
    await page.locator('.conn.up').waitFor();
    identity.setDisabled('zhao', true);
    // The hub checks sessions every 30 s; run that check now rather than wait for it.
    (monitor.runtime.hub as unknown as { revalidate(): void }).revalidate();
    await page.locator('#login-error', { hasText: 'session has ended' }).waitFor();
    expect(await page.locator('#app').isHidden()).toBe(true);
  });

  it('signs out back to the form, and a reload still shows the form', async () => {
    await signIn('admin', TEST_ADMIN_PASSWORD);
    await page.locator('#whoami', { hasText: 'admin · admin · 全部 all' }).waitFor();
    // Whoever may acknowledge sees the button the viewer did not.
    await page.locator('tr.alarm', { hasText: 'T101-TE' }).locator('button.ack').waitFor();
    expect((await chromium.browser.cookies(monitor.url)).map((c) => c.name)).toContain('sentinel_session');

    await signOut();
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(await page.locator('#login-error').textContent()).toBe('');
    expect((await chromium.browser.cookies(monitor.url)).map((c) => c.name)).not.toContain('sentinel_session');

    await page.reload();
    await page.locator('#login-form').waitFor();
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(await page.evaluate(() => fetch('/api/auth/me').then((r) => r.status))).toBe(401);
    expect(problems).toEqual([]);
  });
});
