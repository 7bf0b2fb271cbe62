import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm, AuditEntry, DeliveryRecord } from '#libs/contracts/index.js';
import { dingTalkSign } from '#libs/notify/index.js';
import { HttpReceiver, SmtpReceiver } from '#libs/testing/receivers.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn } from './support/auth.js';

const E = '91320594MA1WKTRP3E';

/**
 * Notifications end to end: the app with config/notify.yaml, local receivers for the SMS gateway, DingTalk and WeCom
 * and an SMTP server. An HH alarm reaches the enterprise's duty contact; left unacknowledged, the county and then the
 * city duty officers on their channels; each message is recorded on the alarm and in the audit.
 */
describe('notifications', () => {
  let http: HttpReceiver;
  let smtp: SmtpReceiver;
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let fetch: typeof globalThis.fetch;
  let configDir: string;
  const env = { ...process.env };

  beforeAll(async () => {
    [http, smtp] = await Promise.all([HttpReceiver.start(), SmtpReceiver.start()]);
    configDir = mkdtempSync(join(tmpdir(), 'sentinel-notify-config-'));
    cpSync(resolve('config'), configDir, { recursive: true });
    // Escalation within seconds, so that the test sees the county and the city told.
    writeFileSync(join(configDir, 'escalation.yaml'), 'escalation:\n  critical: { countyAfterS: 1, cityAfterS: 2 }\n  major: null\n  minor: null\n  warning: null\n');
    writeFileSync(
      join(configDir, 'notify.yaml'),
      `notify:
  channels:
    - { name: enterprise-sms, type: sms, url: "${http.url}/sms", secretFrom: SMS_API_KEY, template: SMS_ALARM_1 }
    - { name: county-dingtalk, type: dingtalk, urlFrom: COUNTY_DINGTALK_URL, secretFrom: COUNTY_DINGTALK_SECRET }
    - { name: city-wecom, type: wecom, urlFrom: CITY_WECOM_URL }
    - { name: city-mail, type: email, smtp: { host: 127.0.0.1, port: ${smtp.port}, from: sentinel@example.org } }
  routes:
    - { level: enterprise, channels: [enterprise-sms], severities: [critical] }
    - level: county
      region: "320594"
      channels: [county-dingtalk]
      roster: { timeZone: Asia/Shanghai, shifts: [{ name: 园区值班 Zhang, phone: "+8613800000001", from: "00:00", to: "00:00" }] }
    - level: city
      region: "320500"
      channels: [city-wecom, city-mail]
      roster: { shifts: [{ name: 苏州市值班 Li, email: li@example.org, from: "00:00", to: "00:00" }] }
`,
    );
    const secrets = join(configDir, 'secrets.json');
    writeFileSync(secrets, JSON.stringify({ SMS_API_KEY: 'sms-key', COUNTY_DINGTALK_URL: `${http.url}/robot/send?access_token=county`, COUNTY_DINGTALK_SECRET: 'SECcounty' }));
    process.env.NOTIFY_SECRETS_FILE = secrets;
    process.env.CITY_WECOM_URL = `${http.url}/cgi-bin/webhook/send?key=city`;
    monitor = await startMonitor(testConfig({ configDir, rules: { ...testConfig().rules, tickMs: 200 } }));
    fetch = await signedIn(monitor.url);
    gateway = await connectAsync(monitor.mqttUrl, { clientId: `notify-e2e-${Date.now()}` });
  });

  afterAll(async () => {
    await gateway?.endAsync();
    await monitor?.close();
    await Promise.all([http?.close(), smtp?.close()]);
    process.env = env;
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('tells the enterprise of an HH alarm by SMS, then the county by DingTalk and the city by WeCom and e-mail while nobody acknowledges', async () => {
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: [{ point: 'T101-TE', value: 55.5 }] }), { qos: 1 });
    await http.taken(3);
    const [sms, ding, wecom] = http.received;
    expect(sms!.path).toBe('/sms');
    expect(sms!.headers.authorization).toBe('Bearer sms-key');
    expect(JSON.parse(sms!.body)).toMatchObject({ phone: '+86 512 6000 0001', template: 'SMS_ALARM_1', params: { point: 'T101-TE', level: 'HH', severity: 'critical', kind: 'raise', value: '55.5' } });

    const url = new URL(ding!.path, http.url);
    expect(url.searchParams.get('access_token')).toBe('county');
    expect(url.searchParams.get('sign')).toBe(dingTalkSign('SECcounty', url.searchParams.get('timestamp')!));
    const dingBody = JSON.parse(ding!.body) as { msgtype: string; markdown: { title: string; text: string }; at: { atMobiles: string[] } };
    expect(dingBody.msgtype).toBe('markdown');
    expect(dingBody.markdown.title).toContain('逐级上报至区县 county');
    expect(dingBody.at.atMobiles).toEqual(['+8613800000001']);

    expect(wecom!.path).toBe('/cgi-bin/webhook/send?key=city');
    expect((JSON.parse(wecom!.body) as { markdown: { content: string } }).markdown.content).toContain('逐级上报至市 city');
    await expect.poll(() => smtp.mails.length).toBe(1);
    expect(smtp.mails[0]).toMatchObject({ from: 'sentinel@example.org', to: ['li@example.org'] });

    // Recorded on the alarm and in the audit.
    const [alarm] = (await (await fetch(`${monitor.url}/api/alarms?state=active`)).json()) as Alarm[];
    await expect.poll(async () => ((await (await fetch(`${monitor.url}/api/alarms/${alarm!.id}/notifications`)).json()) as DeliveryRecord[]).length).toBe(4);
    const records = (await (await fetch(`${monitor.url}/api/alarms/${alarm!.id}/notifications`)).json()) as DeliveryRecord[];
    expect(records.map((r) => [r.channel, r.kind, r.level, r.recipient.name, r.state])).toEqual([
      ['enterprise-sms', 'raise', 'enterprise', '王工 (Wang)', 'sent'],
      ['county-dingtalk', 'escalate', 'county', '园区值班 Zhang', 'sent'],
      ['city-wecom', 'escalate', 'city', '苏州市值班 Li', 'sent'],
      ['city-mail', 'escalate', 'city', '苏州市值班 Li', 'sent'],
    ]);
    // Who was told, not their number: the API shows its last four characters.
    expect(records[0]!.recipient).toEqual({ name: '王工 (Wang)', phone: '…0001', email: null });
    const audit = (await (await fetch(`${monitor.url}/api/alarms/${alarm!.id}/audit`)).json()) as AuditEntry[];
    expect(audit.filter((a) => a.action === 'notification_sent').map((a) => a.detail.channel)).toEqual(['enterprise-sms', 'county-dingtalk', 'city-wecom', 'city-mail']);
    const health = (await (await fetch(`${monitor.url}/health`)).json()) as { status: string; notifications: { ok: boolean; pending: number } };
    expect(health).toMatchObject({ status: 'ok', notifications: { ok: true, pending: 0 } });
  });

  it('says on /health when a channel fails, and sends the waiting message once it is back', async () => {
    const before = http.received.length;
    http.answer = (r) => (r.path === '/sms' ? { status: 503, body: '{}' } : { status: 200, body: '{"errcode":0}' });
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: [{ point: 'T102-TE', value: 56 }] }), { qos: 1 });
    await expect.poll(async () => ((await (await fetch(`${monitor.url}/health`)).json()) as { status: string }).status).toBe('degraded');
    const health = (await (await fetch(`${monitor.url}/health`)).json()) as { notifications: { pending: number; failing: Record<string, string> } };
    expect(health.notifications.failing['enterprise-sms']).toContain('HTTP 503');
    expect(health.notifications.pending).toBeGreaterThanOrEqual(1);
    http.answer = () => ({ status: 200, body: '{"errcode":0}' });
    await expect.poll(() => http.received.slice(before).filter((r) => r.path === '/sms').length, { timeout: 10_000 }).toBe(1);
    expect((JSON.parse(http.received.slice(before).find((r) => r.path === '/sms')!.body) as { params: { point: string } }).params.point).toBe('T102-TE');
    await expect.poll(async () => ((await (await fetch(`${monitor.url}/health`)).json()) as { status: string }).status, { timeout: 10_000 }).toBe('ok');
  });
});
