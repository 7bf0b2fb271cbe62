import { SEVERITY_RANK, type AlarmEvent, type AlarmSeverity, type Delivery, type Enterprise, type NotifyPolicy, type NotifyRoute, type Recipient } from '#libs/contracts/index.js';
import { alarmMessage } from './message.js';
import { onDuty } from './roster.js';

const ACTIVE = new Set(['ACTIVE_UNACK', 'ACTIVE_ACK']);
/** The enterprise code of the monitor's own alarms. */
const SYSTEM = 'system';

/**
 * Whether a route covers an alarm: an enterprise route its enterprise's own, a county or city route those of its
 * region; the monitor's own alarms (enterprise `system`: a store failing, the monitoring chain stalled) concern
 * every county and city route and no enterprise.
 */
function covers(route: NotifyRoute, enterpriseCode: string, enterprise: Enterprise | undefined, regionCode: string | null): boolean {
  if (enterpriseCode === SYSTEM) return route.level !== 'enterprise';
  if (route.level === 'enterprise') return true;
  if (regionCode !== null) return regionCode === route.region;
  const r = enterprise?.region;
  return r !== undefined && (route.level === 'county' ? r.county : r.city) === route.region;
}

function recipients(route: NotifyRoute, enterprise: Enterprise | undefined, now: number): Recipient[] {
  if (route.roster !== null) return onDuty(route.roster, now);
  return (enterprise?.dutyContacts ?? []).map((c) => ({ name: c.name, phone: c.phone, email: null }));
}

/**
 * The messages one alarm event calls for (pure): a raise (or a rise into a notified severity) goes to the routes
 * that notify on `raise` and cover the enterprise; an escalation to the county or city goes to that level's routes
 * for the region the escalation named. Each person on duty gets one message per channel of the route.
 */
export function decide(e: AlarmEvent, policy: NotifyPolicy, enterprise: Enterprise | undefined, now: number, before?: { readonly severity: AlarmSeverity }): Delivery[] {
  const a = e.alarm;
  let trigger: { kind: 'raise' | 'escalate'; level: 'enterprise' | 'county' | 'city' | null; region: string | null } | null = null;
  // An update is a raise when the severity rose (H → HH), or when nothing was known of the alarm (told of nothing yet).
  const rose = e.kind === 'update' && (before === undefined || SEVERITY_RANK[a.severity] > SEVERITY_RANK[before.severity]);
  if ((e.kind === 'raise' || rose) && ACTIVE.has(a.status)) trigger = { kind: 'raise', level: null, region: null };
  if (e.kind === 'escalate') {
    const step = a.escalation.steps.at(-1);
    if (step) trigger = { kind: 'escalate', level: step.level, region: step.regionCode };
  }
  if (trigger === null) return [];
  const out: Delivery[] = [];
  for (const route of policy.routes) {
    if (!route.on.includes(trigger.kind) || !route.severities.includes(a.severity)) continue;
    if (route.conditions !== null && !route.conditions.includes(a.condition)) continue;
    if (trigger.kind === 'escalate' && route.level !== trigger.level) continue;
    if (!covers(route, a.enterpriseCode, enterprise, trigger.kind === 'escalate' ? trigger.region : null)) continue;
    const message = alarmMessage(a, enterprise, trigger.kind, route.level);
    for (const recipient of recipients(route, enterprise, now)) {
      for (const channel of route.channels) {
        out.push({ channel, recipient, alarmId: a.id, alarmKey: a.key, enterpriseCode: a.enterpriseCode, kind: trigger.kind, level: route.level, severity: a.severity, ...message });
      }
    }
  }
  return out;
}
