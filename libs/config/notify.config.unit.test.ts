import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadNotifyPolicy } from './notify.config.js';

function dirWith(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-notify-cfg-'));
  writeFileSync(join(dir, 'notify.yaml'), yaml);
  return dir;
}
const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('loadNotifyPolicy', () => {
  it('is off without notify.yaml', () => {
    expect(loadNotifyPolicy(mkdtempSync(join(tmpdir(), 'sentinel-none-')), {})).toBeNull();
  });

  it('reads the shipped example with its secrets from NOTIFY_SECRETS_FILE and the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-example-'));
    copyFileSync('config/notify.example.yaml', join(dir, 'notify.yaml'));
    const secrets = join(dir, 'secrets.json');
    writeFileSync(secrets, JSON.stringify({ SMS_GATEWAY_URL: 'http://sms.local/send', SMS_API_KEY: 'k', COUNTY_DINGTALK_URL: 'https://oapi.dingtalk.com/robot/send?access_token=t', COUNTY_DINGTALK_SECRET: 'SEC1' }));
    const env = { NOTIFY_SECRETS_FILE: secrets, CITY_WECOM_URL: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x', SMTP_PASSWORD: 'p', PLATFORM_WEBHOOK_URL: 'https://platform.local/hook', PLATFORM_WEBHOOK_SECRET: 'h' };
    const policy = loadNotifyPolicy(dir, env)!;
    expect(policy.channels.map((c) => [c.name, c.type, c.url])).toEqual([
      ['enterprise-sms', 'sms', 'http://sms.local/send'],
      ['county-dingtalk', 'dingtalk', 'https://oapi.dingtalk.com/robot/send?access_token=t'],
      ['city-wecom', 'wecom', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x'],
      ['city-mail', 'email', null],
      ['platform-hook', 'webhook', 'https://platform.local/hook'],
    ]);
    expect(policy.routes.map((r) => [r.level, r.region, r.on.join(',')])).toEqual([
      ['enterprise', null, 'raise'],
      ['county', '320594', 'escalate'],
      ['city', '320500', 'escalate'],
      ['city', '320500', 'raise'],
      ['city', '320500', 'raise'],
    ]);
    expect(policy.routes[3]!.conditions).toEqual(['monitoring_chain', 'storage_unavailable']);
    expect(policy.routes[1]!.roster?.shifts.map((s) => s.recipient.name)).toEqual(['园区值班 张工', '园区值班 李工']);
    expect(policy).toMatchObject({ repeatWindowS: 600, perRecipientPerHour: 20, retryForS: 86_400 });
  });

  it('stops the boot naming the file, the key and what is expected', () => {
    const dir = dirWith(`notify:
  channels:
    - { name: ding, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=leaked" }
    - { name: sms, type: sms, urlFrom: SMS_URL }
  routes:
    - { level: county, channels: [ding, pager] }
`);
    const problems = problemsOf(() => loadNotifyPolicy(dir, {}));
    // Each names the file first, then the key.
    expect(problems.every((p) => p.includes('notify.yaml: notify.'))).toBe(true);
    expect(problems.map((p) => p.slice(p.indexOf('notify.yaml: ') + 'notify.yaml: '.length))).toEqual([
      'notify.channels[0].url: carries a token; put the URL in a secret and name it with urlFrom',
      'notify.channels[1].urlFrom: no secret SMS_URL in NOTIFY_SECRETS_FILE or the environment',
      'notify.channels[1]: an sms channel needs the template its gateway fills',
      'notify.routes[0].channels: no channel named pager; expected one of ding, sms',
      "notify.routes[0].region: a county route needs the county's 6-digit code",
      'notify.routes[0].roster: a county route needs the roster of its duty officers',
    ]);
    const more = problemsOf(() =>
      loadNotifyPolicy(
        dirWith(`notify:
  channels:
    - { name: sms, type: sms, url: "http://user:pw@sms.local/send", template: T }
    - { name: mail, type: email, url: "http://x.local", smtp: { host: h, port: 25, from: a@b.c } }
    - { name: hook, type: webhook, urlFrom: HOOK }
  routes:
    - { level: enterprise, on: [escalate], channels: [sms], roster: { shifts: [{ name: a, from: "00:00", to: "00:00" }] } }
    - { level: county, region: "320594", channels: [sms, mail], roster: { shifts: [{ name: b, from: "00:00", to: "00:00" }] } }
`),
        { HOOK: 'not a url' },
      ),
    );
    expect(more.map((p) => p.slice(p.indexOf('notify.yaml: ') + 'notify.yaml: '.length))).toEqual([
      'notify.channels[0]: the URL carries a user name or password; give the key with secretFrom instead',
      'notify.channels[1]: an email channel takes smtp settings, not a url',
      'notify.channels[2].urlFrom (HOOK): not a URL; expected http(s)://host/path',
      "notify.routes[0].roster: an enterprise route tells each enterprise's own duty contacts (site YAML dutyContacts); a roster belongs to a county or city route",
      'notify.routes[0].on: escalations go to the county and the city; an enterprise route is told on raise',
      'notify.routes[0].roster.shifts[0]: a has no phone for the sms channel sms',
      'notify.routes[1].roster.shifts[0]: b has no phone for the sms channel sms',
      'notify.routes[1].roster.shifts[0]: b has no email for the email channel mail',
    ]);
    expect(problemsOf(() => loadNotifyPolicy(dirWith('notify:\n  channels: [{ name: h, type: webhook, url: "http://h.local" }]\n  routes: [{ level: enterprise, channels: [h], conditions: [monitoring-chain] }]\n'), {})).join('\n')).toContain('notify.routes[0].conditions[0]');
    const shape = problemsOf(() => loadNotifyPolicy(dirWith('notify:\n  channels: []\n  routes: [{ level: town, channels: [x] }]\n'), {}));
    expect(shape.join('\n')).toContain('notify.channels');
    expect(shape.join('\n')).toContain('notify.routes[0].level');
  });
});
