import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { ChannelConfig, Delivery } from '#libs/contracts/index.js';

/** A channel refused or failed a message; `permanent`: retrying cannot help (no phone number, a bad request). */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

/** One way of sending: it resolves once the far end has taken the message, and throws ChannelError otherwise. */
export interface Channel {
  readonly config: ChannelConfig;
  send(d: Delivery): Promise<void>;
}

const TIMEOUT_MS = 10_000;

/** Webhook signature: hex HMAC-SHA256 of `<timestamp>.<body>` with the channel's secret (docs/notifications.md). */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** DingTalk custom robot signing: base64 HMAC-SHA256 of `<timestamp>\n<secret>` keyed with the secret. */
export function dingTalkSign(secret: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new ChannelError(`cannot reach ${new URL(url).host}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!res.ok) throw new ChannelError(`${new URL(url).host} answered HTTP ${res.status}`, res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408);
  return res;
}

/** DingTalk and WeCom answer HTTP 200 with `errcode` ≠ 0 when they refuse (bad signature, rate limit). */
async function robotAnswer(res: Response, who: string): Promise<void> {
  const answer = (await res.json().catch(() => null)) as { errcode?: number; errmsg?: string } | null;
  if (answer === null || answer.errcode !== 0) throw new ChannelError(`${who} refused the message: errcode ${answer?.errcode ?? '?'} ${answer?.errmsg ?? ''}`.trim());
}

function need<T>(value: T | null, what: string, channel: string): T {
  if (value === null) throw new ChannelError(`channel ${channel} has no ${what}`, true);
  return value;
}

/** Builds the channel a config describes. */
export function channelOf(config: ChannelConfig): Channel {
  const { name } = config;
  switch (config.type) {
    case 'webhook':
      return {
        config,
        async send(d) {
          const body = JSON.stringify({ type: 'alarm_notification', kind: d.kind, level: d.level, severity: d.severity, alarmId: d.alarmId, alarmKey: d.alarmKey, enterpriseCode: d.enterpriseCode, recipient: d.recipient, title: d.title, text: d.text });
          const timestamp = String(Date.now());
          const headers: Record<string, string> = { 'x-sentinel-timestamp': timestamp };
          if (config.secret !== null) headers['x-sentinel-signature'] = webhookSignature(config.secret, timestamp, body);
          await post(need(config.url, 'url', name), body, headers);
        },
      };
    case 'dingtalk':
      return {
        config,
        async send(d) {
          const url = new URL(need(config.url, 'url', name));
          if (config.secret !== null) {
            const timestamp = String(Date.now());
            url.searchParams.set('timestamp', timestamp);
            url.searchParams.set('sign', dingTalkSign(config.secret, timestamp));
          }
          const atMobiles = d.recipient.phone ? [d.recipient.phone] : [];
          const body = JSON.stringify({ msgtype: 'markdown', markdown: { title: d.title, text: d.text }, at: { atMobiles, isAtAll: false } });
          await robotAnswer(await post(url.toString(), body, {}), 'DingTalk');
        },
      };
    case 'wecom':
      return {
        config,
        async send(d) {
          const body = JSON.stringify({ msgtype: 'markdown', markdown: { content: d.text } });
          await robotAnswer(await post(need(config.url, 'url', name), body, {}), 'WeCom');
        },
      };
    case 'sms':
      return {
        config,
        async send(d) {
          if (!d.recipient.phone) throw new ChannelError(`${d.recipient.name} has no phone number`, true);
          const body = JSON.stringify({ phone: d.recipient.phone, template: config.template, params: d.params });
          await post(need(config.url, 'url', name), body, config.secret !== null ? { authorization: `Bearer ${config.secret}` } : {});
        },
      };
    case 'email': {
      const smtp = need(config.smtp, 'smtp settings', name);
      const transport = nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        ...(smtp.user !== null && { auth: { user: smtp.user, pass: config.secret ?? '' } }),
        connectionTimeout: TIMEOUT_MS,
        greetingTimeout: TIMEOUT_MS,
        socketTimeout: TIMEOUT_MS,
      });
      return {
        config,
        async send(d) {
          if (!d.recipient.email) throw new ChannelError(`${d.recipient.name} has no e-mail address`, true);
          try {
            await transport.sendMail({ from: smtp.from, to: d.recipient.email, subject: d.title, text: d.text });
          } catch (err) {
            throw new ChannelError(`SMTP ${smtp.host}:${smtp.port}: ${err instanceof Error ? err.message : String(err)}`);
          }
        },
      };
    }
  }
}
