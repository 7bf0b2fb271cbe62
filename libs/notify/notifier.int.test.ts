import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmEvent, ChannelConfig, DeliveryRecord, Enterprise, NotifyPolicy } from '#libs/contracts/index.js';
import { anAlarm, anEnterprise } from '#libs/testing/builders.js';
import { HttpReceiver, SmtpReceiver } from '#libs/testing/receivers.js';
import { channelOf } from './channels.js';
import { Notifier } from './notifier.js';

const E = '91320594MA1WKTRP3E';
const enterprise: Enterprise = anEnterprise();

describe('notification channels and the outbox, against local receivers', () => {
  let http: HttpReceiver;
  let smtp: SmtpReceiver;
  let dir: string;
  const notifiers: Notifier[] = [];

  beforeAll(async () => {
    [http, smtp] = await Promise.all([HttpReceiver.start(), SmtpReceiver.start()]);
    dir = mkdtempSync(join(tmpdir(), 'sentinel-notify-'));
  });
  afterEach(async () => {
    for (const n of notifiers.splice(0)) await n.close();
    http.received.length = 0;
    http.answer = () => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
  });
  afterAll(async () => {
    await Promise.all([http.close(), smtp.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const channels = (): ChannelConfig[] => [
    { name: 'hook', type: 'webhook', url: `${http.url}/hook`, secret: 'webhook-secret', template: null, smtp: null },
    { name: 'ding', type: 'dingtalk', url: `${http.url}/robot/send?access_token=tok`, secret: 'SECdingtalk', template: null, smtp: null },
    { name: 'wecom', type: 'wecom', url: `${http.url}/cgi-bin/webhook/send?key=k1`, secret: null, template: null, smtp: null },
    { name: 'sms', type: 'sms', url: `${http.url}/sms`, secret: 'sms-api-key', template: 'SMS_ALARM_1', smtp: null },
    { name: 'mail', type: 'email', url: null, secret: null, template: null, smtp: { host: '127.0.0.1', port: smtp.port, secure: false, user: null, from: 'sentinel@example.org' } },
  ];
  const policy = (over: Partial<NotifyPolicy> = {}): NotifyPolicy => ({
    channels: channels(),
    routes: [{ level: 'enterprise', region: null, roster: null, channels: ['sms'], severities: ['critical', 'major'], conditions: null, on: ['raise'] }],
    repeatWindowS: 600,
    perRecipientPerHour: 20,
    retryForS: 86_400,
    ...over,
  });
  const start = (file: string, p: NotifyPolicy, clock: { now: number }, outcomes: [DeliveryRecord, string][] = []): Notifier => {
    const n = new Notifier({ policy: p, outboxFile: join(dir, file), enterprise: () => enterprise, onOutcome: (r, o) => outcomes.push([r, o]), now: () => clock.now });
    notifiers.push(n);
    return n;
  };
  const hh = (id = 'a1'): AlarmEvent => ({ kind: 'raise', alarm: anAlarm({ id, enterpriseCode: E, severity: 'critical', level: 'HH', status: 'ACTIVE_UNACK', key: `${E}/point:T101-TE/limit_high` }) });

  it('sends each channel its documented format: signed webhook, signed DingTalk markdown, WeCom markdown, SMS template, e-mail', async () => {
    const delivery = { channel: '', recipient: { name: '王工', phone: '+8651260000001', email: 'wang@example.org' }, alarmId: 'a1', alarmKey: 'k', enterpriseCode: E, kind: 'raise' as const, level: 'enterprise' as const, severity: 'critical' as const, title: '【Sentinel】紧急 critical 报警', text: '### 报警\n- T101-TE 55 °C', params: { point: 'T101-TE', level: 'HH' } };
    for (const c of channels()) await channelOf(c).send({ ...delivery, channel: c.name });
    const [hook, ding, wecom, sms] = http.received;

    const ts = hook!.headers['x-sentinel-timestamp'] as string;
    expect(hook!.headers['x-sentinel-signature']).toBe(`sha256=${createHmac('sha256', 'webhook-secret').update(`${ts}.${hook!.body}`).digest('hex')}`);
    expect(JSON.parse(hook!.body)).toMatchObject({ type: 'alarm_notification', kind: 'raise', alarmId: 'a1', recipient: { name: '王工' }, title: delivery.title });

    const url = new URL(ding!.path, http.url);
    expect(url.pathname).toBe('/robot/send');
    expect(url.searchParams.get('access_token')).toBe('tok');
    const t = url.searchParams.get('timestamp')!;
    expect(url.searchParams.get('sign')).toBe(createHmac('sha256', 'SECdingtalk').update(`${t}\nSECdingtalk`).digest('base64'));
    expect(JSON.parse(ding!.body)).toEqual({ msgtype: 'markdown', markdown: { title: delivery.title, text: delivery.text }, at: { atMobiles: ['+8651260000001'], isAtAll: false } });

    expect(wecom!.path).toBe('/cgi-bin/webhook/send?key=k1');
    expect(JSON.parse(wecom!.body)).toEqual({ msgtype: 'markdown', markdown: { content: delivery.text } });

    expect(sms!.headers.authorization).toBe('Bearer sms-api-key');
    expect(JSON.parse(sms!.body)).toEqual({ phone: '+8651260000001', template: 'SMS_ALARM_1', params: { point: 'T101-TE', level: 'HH' } });

    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]).toMatchObject({ from: 'sentinel@example.org', to: ['wang@example.org'] });
    expect(smtp.mails[0]!.raw).toContain('Subject: =?UTF-8?');
  });

  it('takes a robot refusal (errcode ≠ 0 with HTTP 200) as a failure, and retries it', async () => {
    http.answer = (r) => (r.path.startsWith('/robot') ? { status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' } : { status: 200, body: '{"errcode":0}' });
    const clock = { now: Date.parse('2026-11-30T02:00:00Z') };
    const outcomes: [DeliveryRecord, string][] = [];
    const n = start('robot.db', policy({ routes: [{ level: 'enterprise', region: null, roster: null, channels: ['ding'], severities: ['critical'], conditions: null, on: ['raise'] }] }), clock, outcomes);
    n.onEvents([hh()]);
    await n.runOnce();
    const [record] = n.forAlarm('a1');
    expect(record).toMatchObject({ state: 'pending', attempts: 1, lastError: 'DingTalk refused the message: errcode 310000 sign not match' });
    expect(n.health()).toMatchObject({ ok: false, pending: 1, failing: { ding: 'DingTalk refused the message: errcode 310000 sign not match' } });
    http.answer = () => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
    clock.now += 1000;
    await n.runOnce();
    expect(n.forAlarm('a1')[0]).toMatchObject({ state: 'sent', attempts: 2, lastError: null });
    expect(outcomes.map(([r, o]) => [r.channel, o])).toEqual([['ding', 'sent']]);
    expect(n.health().ok).toBe(true);
  });

  it('keeps a decided message across a crash before sending, and sends it once after the restart', async () => {
    const clock = { now: Date.parse('2026-11-30T02:00:00Z') };
    const before = start('crash.db', policy(), clock);
    before.onEvents([hh()]); // stored (synchronous = FULL) before this returns; the process "dies" here, unsent
    expect(http.received).toHaveLength(0);
    const after = start('crash.db', policy(), clock);
    await after.runOnce();
    await after.runOnce();
    expect(http.received.filter((r) => r.path === '/sms')).toHaveLength(1);
    expect(after.forAlarm('a1')).toEqual([expect.objectContaining({ state: 'sent', attempts: 1 })]);
  });

  it('sends every message once the receiver is back after a minute down, with backoff meanwhile', async () => {
    http.answer = () => ({ status: 503, body: '{}' });
    const clock = { now: Date.parse('2026-11-30T02:00:00Z') };
    const n = start('outage.db', policy(), clock);
    n.onEvents([hh('a1'), { kind: 'raise', alarm: anAlarm({ id: 'a2', enterpriseCode: E, severity: 'major', level: 'H', key: `${E}/point:T102-TE/limit_high` }) }]);
    for (let s = 0; s < 60; s++) {
      await n.runOnce();
      clock.now += 1000;
    }
    const attempts = n.forAlarm('a1')[0]!.attempts;
    // 1, 2, 4, 8, 16, 32 s apart: six attempts in the minute, not sixty.
    expect(attempts).toBe(6);
    http.answer = () => ({ status: 200, body: '{"errcode":0}' });
    clock.now += 60_000;
    await n.runOnce();
    expect(http.received.map((r) => JSON.parse(r.body) as { params: { level: string } }).map((b) => b.params.level).sort()).toEqual(['H', 'HH']);
    expect(n.health()).toMatchObject({ ok: true, pending: 0 });
  });

  it('sends a flapping alarm once, then one summary of the repeats after the window, not one message each', async () => {
    const clock = { now: Date.parse('2026-11-30T02:00:00Z') };
    const n = start('flap.db', policy(), clock);
    for (let i = 0; i < 40; i++) {
      n.onEvents([hh(`flap-${i}`)]);
      clock.now += 10_000;
    }
    await n.runOnce();
    // 40 raises in 400 s: the first went out, the other 39 wait for the window (600 s after the first held one).
    expect(http.received).toHaveLength(1);
    clock.now += 600_000;
    await n.runOnce();
    await n.runOnce();
    expect(http.received).toHaveLength(2);
    const summary = JSON.parse(http.received[1]!.body) as { params: Record<string, string> };
    expect(summary.params).toEqual({ alarm: `${E}/point:T101-TE/limit_high`, count: '39', kind: 'summary' });
  });

  it('never holds an escalation back, and gives up a message no channel can take with the reason', async () => {
    const clock = { now: Date.parse('2026-11-30T02:00:00Z') };
    const outcomes: [DeliveryRecord, string][] = [];
    const roster = { timeZone: 'Asia/Shanghai', shifts: [{ recipient: { name: '县值班 county duty', phone: null, email: null }, from: '00:00', to: '00:00', days: null }] };
    const p = policy({
      routes: [
        { level: 'county', region: '320594', roster, channels: ['hook', 'sms'], severities: ['critical'], conditions: null, on: ['raise', 'escalate'] },
      ],
    });
    const n = start('escalate.db', p, clock, outcomes);
    const a = hh().alarm;
    n.onEvents([{ kind: 'raise', alarm: a }]);
    n.onEvents([{ kind: 'escalate', alarm: { ...a, escalation: { level: 'county', steps: [{ level: 'county', regionCode: '320594', at: '2026-11-30T02:10:00Z' }] } } }]);
    await n.runOnce();
    const records = n.forAlarm('a1');
    expect(records.map((r) => [r.channel, r.kind, r.state])).toEqual([
      ['hook', 'raise', 'sent'],
      ['sms', 'raise', 'failed'],
      ['hook', 'escalate', 'sent'],
      ['sms', 'escalate', 'failed'],
    ]);
    expect(records[1]!.lastError).toBe('县值班 county duty has no phone number');
    expect(outcomes.filter(([, o]) => o === 'failed')).toHaveLength(2);
  });

  it('never holds a rise in severity (H, then HH within the window), also after a restart', () => {
    const clock = { now: Date.parse('2026-11-30T02:00:00Z') };
    const key = `${E}/point:T101-TE/limit_high`;
    const h = anAlarm({ id: 'r1', enterpriseCode: E, severity: 'major', level: 'H', status: 'ACTIVE_UNACK', key });
    const n = start('rise.db', policy(), clock);
    n.onEvents([{ kind: 'raise', alarm: h }]);
    clock.now += 60_000;
    n.onEvents([{ kind: 'update', alarm: { ...h, severity: 'critical', level: 'HH' } }]);
    // The same level again within the window: held for the summary.
    n.onEvents([{ kind: 'update', alarm: { ...h, severity: 'critical', level: 'HH', value: 70 } }]);
    expect(n.forAlarm('r1').map((r) => [r.severity, r.state])).toEqual([
      ['major', 'pending'],
      ['critical', 'pending'],
    ]);
    // After a restart the notifier knows what it told from its outbox: H → HH of another alarm is a rise.
    const h2 = anAlarm({ id: 'r2', enterpriseCode: E, severity: 'major', level: 'H', status: 'ACTIVE_UNACK', key: `${E}/point:T102-TE/limit_high` });
    n.onEvents([{ kind: 'raise', alarm: h2 }]);
    const again = start('rise.db', policy(), clock);
    again.onEvents([{ kind: 'update', alarm: { ...h2, severity: 'critical', level: 'HH' } }]);
    again.onEvents([{ kind: 'update', alarm: { ...h2, severity: 'major', level: 'H' } }]);
    expect(again.forAlarm('r2').map((r) => [r.severity, r.state])).toEqual([
      ['major', 'pending'],
      ['critical', 'pending'],
    ]);
  });

  it('keeps a slow channel from holding up the others', async () => {
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    const clock = { now: Date.parse('2026-11-30T02:00:00Z') };
    const p = policy({
      routes: [
        { level: 'enterprise', region: null, roster: null, channels: ['sms'], severities: ['critical', 'major'], conditions: null, on: ['raise'] },
        { level: 'enterprise', region: null, roster: null, channels: ['wecom'], severities: ['critical'], conditions: null, on: ['raise'] },
      ],
    });
    const n = new Notifier({
      policy: p,
      outboxFile: join(dir, 'slow.db'),
      enterprise: () => enterprise,
      onOutcome: () => undefined,
      now: () => clock.now,
      channels: new Map([
        ['sms', { config: channels()[3]!, send: () => slow }],
        ['wecom', channelOf(channels()[2]!)],
      ]),
    });
    notifiers.push(n);
    for (let i = 0; i < 10; i++) n.onEvents([{ kind: 'raise', alarm: anAlarm({ id: `m${i}`, enterpriseCode: E, severity: 'major', key: `${E}/point:P${i}/limit_high` }) }]);
    n.onEvents([hh('crit')]);
    n.start();
    await http.taken(1);
    expect(http.received[0]!.path).toBe('/cgi-bin/webhook/send?key=k1');
    release();
  });
});
