// Notifications (预警推送): who is told of an alarm, on which channel, and what became of each message.
import type { AlarmSeverity, ConditionType, JurisdictionLevel } from './alarm-kinds.js';

export type ChannelType = 'webhook' | 'dingtalk' | 'wecom' | 'sms' | 'email';

/** A person a message goes to: a duty officer from the roster, or an enterprise's duty contact from the registry. */
export interface Recipient {
  readonly name: string;
  readonly phone: string | null;
  readonly email: string | null;
}

/**
 * Why a message is sent: an alarm raised, escalated to a level, the summary of those held back for a while, or (from
 * the external watchdog) the monitor back after being down.
 */
export type DeliveryKind = 'raise' | 'escalate' | 'summary' | 'recovery';

/** One message decided for one recipient on one channel. */
export interface Delivery {
  readonly channel: string;
  readonly recipient: Recipient;
  readonly alarmId: string;
  /** The alarm's key: messages about one condition are de-duplicated and summarised by it. */
  readonly alarmKey: string;
  readonly enterpriseCode: string;
  readonly kind: DeliveryKind;
  /** Whose duty the message is: the enterprise's, the county's or the city's. */
  readonly level: JurisdictionLevel;
  readonly severity: AlarmSeverity;
  readonly title: string;
  /** Markdown (DingTalk, WeCom, webhook, e-mail) … */
  readonly text: string;
  /** … and the plain parameters of an SMS template. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * `pending`: stored, not yet taken by the channel (retried with backoff); `sent`; `failed`: given up after the retry
 * period; `held`: not sent on its own (the same alarm was just notified to this recipient, or the recipient's hourly
 * limit was reached) and waiting for its summary; `folded`: counted in a summary that was sent instead.
 */
export type DeliveryState = 'pending' | 'sent' | 'failed' | 'held' | 'folded';

export interface DeliveryRecord extends Delivery {
  readonly id: number;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly createdAt: string;
  readonly nextAt: string | null;
  readonly sentAt: string | null;
  readonly lastError: string | null;
}

/** A roster shift (值班): local times in the roster's time zone; `to` before `from` runs past midnight. */
export interface Shift {
  readonly recipient: Recipient;
  readonly from: string;
  readonly to: string;
  /** ISO weekdays 1 (Monday) … 7; absent: every day. The day is the one the shift starts on. */
  readonly days: readonly number[] | null;
}

export interface Roster {
  readonly timeZone: string;
  readonly shifts: readonly Shift[];
}

/** Who is told of what: one level of the jurisdiction, on some channels, for some alarms. */
export interface NotifyRoute {
  readonly level: JurisdictionLevel;
  /** For county and city routes: the 6-digit code of that county or city. */
  readonly region: string | null;
  /** Who: the roster's people on duty; absent for an enterprise route: the enterprise's own duty contacts. */
  readonly roster: Roster | null;
  readonly channels: readonly string[];
  readonly severities: readonly AlarmSeverity[];
  /** Only these conditions; null: every condition. */
  readonly conditions: readonly ConditionType[] | null;
  /** When: the alarm raised (its severity reaching a listed one), or escalated to this route's level. */
  readonly on: readonly ('raise' | 'escalate')[];
}

export interface ChannelConfig {
  readonly name: string;
  readonly type: ChannelType;
  /** Endpoint (webhook, DingTalk, WeCom, SMS gateway): from the secrets, since robot URLs carry their token. */
  readonly url: string | null;
  /** HMAC key (webhook, DingTalk), API key (SMS gateway) or SMTP password. */
  readonly secret: string | null;
  /** SMS gateway: the template the message fills. */
  readonly template: string | null;
  /** E-mail: the SMTP server and sender. */
  readonly smtp: { readonly host: string; readonly port: number; readonly secure: boolean; readonly user: string | null; readonly from: string } | null;
}

export interface NotifyPolicy {
  readonly channels: readonly ChannelConfig[];
  readonly routes: readonly NotifyRoute[];
  /** A recipient hears of one alarm condition at most once in this window; the rest come as one summary after it. */
  readonly repeatWindowS: number;
  /** At most this many messages an hour per recipient and channel; beyond, they wait for a summary. */
  readonly perRecipientPerHour: number;
  /** How long a message is retried before it is marked failed. */
  readonly retryForS: number;
}
