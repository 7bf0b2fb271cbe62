import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { CONDITION_TYPES, type ChannelConfig, type ConditionType, type NotifyPolicy, type NotifyRoute } from '#libs/contracts/index.js';
import { ConfigError } from './config-error.js';
import { readOptionalConfigFile } from './yaml-files.js';

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a name of letters, digits, _ . - (at most 64)');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM');
const severity = z.enum(['critical', 'major', 'minor', 'warning']);
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Asia/Shanghai');

const channel = z.strictObject({
  name,
  type: z.enum(['webhook', 'dingtalk', 'wecom', 'sms', 'email']),
  /** A URL without a secret in it (e.g. a gateway on the local network) … */
  url: z.url().optional(),
  /** … or the name of the secret holding it (robot URLs carry their access token). */
  urlFrom: name.optional(),
  /** The name of the secret holding the HMAC key, API key or SMTP password. */
  secretFrom: name.optional(),
  template: z.string().min(1).optional(),
  smtp: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535), secure: z.boolean().default(false), user: z.string().min(1).optional(), from: z.string().min(3) }).optional(),
});

const shift = z.strictObject({
  name: z.string().min(1),
  phone: z.string().min(3).optional(),
  email: z.email().optional(),
  from: hhmm,
  to: hhmm,
  days: z.array(z.number().int().min(1).max(7)).min(1).optional(),
});

const route = z.strictObject({
  level: z.enum(['enterprise', 'county', 'city']),
  region: z.string().regex(/^\d{6}$/, 'a 6-digit division code').optional(),
  on: z.array(z.enum(['raise', 'escalate'])).min(1).optional(),
  severities: z.array(severity).min(1).default(['critical', 'major']),
  conditions: z.array(z.enum(CONDITION_TYPES as [ConditionType, ...ConditionType[]])).min(1).optional(),
  channels: z.array(name).min(1),
  roster: z.strictObject({ timeZone: timeZone.default('Asia/Shanghai'), shifts: z.array(shift).min(1) }).optional(),
});

const notifyFileSchema = z.strictObject({
  notify: z.strictObject({
    repeatWindowS: z.number().int().positive().default(600),
    perRecipientPerHour: z.number().int().positive().default(20),
    retryForS: z.number().int().positive().default(86_400),
    channels: z.array(channel).min(1),
    routes: z.array(route).min(1),
  }),
});

/** Secrets by name: the JSON object in NOTIFY_SECRETS_FILE first, then the environment. */
function secretsOf(env: NodeJS.ProcessEnv, problems: string[]): (key: string) => string | undefined {
  const file = env.NOTIFY_SECRETS_FILE;
  let fromFile: Record<string, unknown> = {};
  if (file) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object of names to strings');
      fromFile = parsed as Record<string, unknown>;
    } catch (err) {
      problems.push(`NOTIFY_SECRETS_FILE ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return (key) => (typeof fromFile[key] === 'string' ? fromFile[key] : env[key]);
}

/**
 * Reads `notify.yaml` under configDir (optional: without it nothing is notified beyond the page). Credentials are
 * never in the file: channels name them (`urlFrom`, `secretFrom`) and they come from NOTIFY_SECRETS_FILE or the
 * environment. Throws ConfigError naming the file, key and expectation, or the missing secret.
 */
export function loadNotifyPolicy(configDir: string, env: NodeJS.ProcessEnv = process.env): NotifyPolicy | null {
  const c = readOptionalConfigFile(configDir, 'notify.yaml', notifyFileSchema);
  if (c === null) return null;
  const file = relative(process.cwd(), join(configDir, 'notify.yaml'));
  const problems: string[] = [];
  const secret = secretsOf(env, problems);
  const n = c.notify;
  const channels: ChannelConfig[] = n.channels.map((ch, i) => {
    const at = `${file}: notify.channels[${i}]`;
    const lookup = (key: string | undefined, what: string): string | null => {
      if (key === undefined) return null;
      const v = secret(key);
      if (v === undefined || v === '') problems.push(`${at}.${what}: no secret ${key} in NOTIFY_SECRETS_FILE or the environment`);
      return v ?? null;
    };
    const url = ch.url ?? lookup(ch.urlFrom, 'urlFrom');
    if (ch.type !== 'email' && ch.url === undefined && ch.urlFrom === undefined) problems.push(`${at}: a ${ch.type} channel needs url or urlFrom`);
    if (ch.type === 'email' && (ch.url !== undefined || ch.urlFrom !== undefined)) problems.push(`${at}: an email channel takes smtp settings, not a url`);
    if (url !== null && url !== '') {
      let parsed: URL | null = null;
      try {
        parsed = new URL(url);
      } catch {
        problems.push(`${at}.${ch.url !== undefined ? 'url' : `urlFrom (${ch.urlFrom})`}: not a URL; expected http(s)://host/path`);
      }
      if (parsed !== null && !/^https?:$/.test(parsed.protocol)) problems.push(`${at}: expected an http or https URL, got ${parsed.protocol}`);
      // Credentials in a URL end up in error messages, logs and /health: they belong in secretFrom.
      if (parsed !== null && (parsed.username !== '' || parsed.password !== '')) problems.push(`${at}: the URL carries a user name or password; give the key with secretFrom instead`);
    }
    if (ch.type === 'email' && ch.smtp === undefined) problems.push(`${at}: an email channel needs smtp {host, port, from}`);
    if (ch.type === 'sms' && ch.template === undefined) problems.push(`${at}: an sms channel needs the template its gateway fills`);
    if (ch.url !== undefined && /[?&](access_token|key|sign)=/.test(ch.url)) problems.push(`${at}.url: carries a token; put the URL in a secret and name it with urlFrom`);
    return {
      name: ch.name,
      type: ch.type,
      url,
      secret: lookup(ch.secretFrom, 'secretFrom'),
      template: ch.template ?? null,
      smtp: ch.smtp ? { host: ch.smtp.host, port: ch.smtp.port, secure: ch.smtp.secure, user: ch.smtp.user ?? null, from: ch.smtp.from } : null,
    };
  });
  const names = new Set(channels.map((ch) => ch.name));
  if (names.size !== channels.length) problems.push(`${file}: notify.channels: two channels share a name`);
  const routes: NotifyRoute[] = n.routes.map((r, i) => {
    const at = `${file}: notify.routes[${i}]`;
    for (const ch of r.channels) if (!names.has(ch)) problems.push(`${at}.channels: no channel named ${ch}; expected one of ${[...names].join(', ')}`);
    if (r.level !== 'enterprise' && r.region === undefined) problems.push(`${at}.region: a ${r.level} route needs the ${r.level}'s 6-digit code`);
    if (r.level !== 'enterprise' && r.roster === undefined) problems.push(`${at}.roster: a ${r.level} route needs the roster of its duty officers`);
    // An enterprise route reaches each enterprise's own contacts; a roster there would get every enterprise's alarms.
    if (r.level === 'enterprise' && r.roster !== undefined) problems.push(`${at}.roster: an enterprise route tells each enterprise's own duty contacts (site YAML dutyContacts); a roster belongs to a county or city route`);
    if (r.level === 'enterprise' && r.on?.includes('escalate')) problems.push(`${at}.on: escalations go to the county and the city; an enterprise route is told on raise`);
    for (const [j, sh] of (r.roster?.shifts ?? []).entries()) {
      for (const chName of r.channels) {
        const type = n.channels.find((c) => c.name === chName)?.type;
        if (type === 'sms' && sh.phone === undefined) problems.push(`${at}.roster.shifts[${j}]: ${sh.name} has no phone for the sms channel ${chName}`);
        if (type === 'email' && sh.email === undefined) problems.push(`${at}.roster.shifts[${j}]: ${sh.name} has no email for the email channel ${chName}`);
      }
    }
    return {
      level: r.level,
      region: r.region ?? null,
      on: r.on ?? (r.level === 'enterprise' ? ['raise'] : ['escalate']),
      severities: r.severities,
      conditions: r.conditions ?? null,
      channels: r.channels,
      roster: r.roster
        ? { timeZone: r.roster.timeZone, shifts: r.roster.shifts.map((s) => ({ recipient: { name: s.name, phone: s.phone ?? null, email: s.email ?? null }, from: s.from, to: s.to, days: s.days ?? null })) }
        : null,
    };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return { channels, routes, repeatWindowS: n.repeatWindowS, perRecipientPerHour: n.perRecipientPerHour, retryForS: n.retryForS };
}
