import type { Alarm, AlarmEventKind, EscalationPolicy, JurisdictionLevel } from '#libs/contracts/index.js';

/** Why an action was refused: `conflict` (the alarm's state does not allow it, 409) or `invalid` (bad input, 400). */
export interface Refusal {
  readonly kind: 'conflict' | 'invalid';
  readonly reason: string;
}

export type Done = { readonly ok: true; readonly alarm: Alarm; readonly events: AlarmEventKind[] };
export type Outcome = Done | { readonly ok: false; readonly refusal: Refusal };

export type Action =
  | { readonly kind: 'ack'; readonly by: string }
  | { readonly kind: 'dispose'; readonly by: string; readonly cause: string; readonly action: string; readonly handler: string }
  | { readonly kind: 'shelve'; readonly by: string; readonly reason: string; readonly forS: number }
  | { readonly kind: 'unshelve'; readonly by: string }
  | { readonly kind: 'comment'; readonly by: string; readonly text: string }
  | { readonly kind: 'assign'; readonly by: string; readonly assignee: string };

const conflict = (reason: string): Outcome => ({ ok: false, refusal: { kind: 'conflict', reason } });

/** Comments one alarm keeps: its body is rewritten on every change, so a caller must not grow it without bound. */
export const MAX_COMMENTS = 200;

export const isActive = (a: Alarm): boolean => a.status === 'ACTIVE_UNACK' || a.status === 'ACTIVE_ACK';

/**
 * The closed loop of one alarm (ISA-18.2 states, 闭环处置): acknowledge → dispose → (cleared) → closed. Every
 * action is allowed or refused with a reason; a closed alarm takes comments only.
 */
export function act(a: Alarm, action: Action, at: string, policy: EscalationPolicy): Outcome {
  if (a.closedAt !== null && action.kind !== 'comment') return conflict(`alarm ${a.id} was closed at ${a.closedAt}`);
  switch (action.kind) {
    case 'ack': {
      if (a.acknowledged) return conflict(`already acknowledged by ${a.acknowledged.by} at ${a.acknowledged.at}`);
      const acked: Alarm = { ...a, status: isActive(a) ? 'ACTIVE_ACK' : 'CLEARED_ACK', acknowledged: { by: action.by, at }, updatedAt: at };
      return closeIfDone(acked, ['ack'], at, policy);
    }
    case 'dispose': {
      if (a.disposal) return conflict(`already disposed by ${a.disposal.handler} at ${a.disposal.at}`);
      if (!a.acknowledged) return conflict('acknowledge the alarm before recording its disposal');
      const disposed: Alarm = { ...a, disposal: { cause: action.cause, action: action.action, handler: action.handler, at }, updatedAt: at };
      return closeIfDone(disposed, ['dispose'], at, policy);
    }
    case 'shelve': {
      if (a.shelved) return conflict(`already shelved by ${a.shelved.by} until ${a.shelved.until}`);
      if (!isActive(a)) return conflict('only an active alarm can be shelved');
      if (action.forS > policy.maxShelveS) return { ok: false, refusal: { kind: 'invalid', reason: `forS ${action.forS} is longer than the ${policy.maxShelveS} s an alarm may be shelved` } };
      const until = new Date(Date.parse(at) + action.forS * 1000).toISOString();
      return { ok: true, alarm: { ...a, shelved: { by: action.by, reason: action.reason, at, until }, updatedAt: at }, events: ['shelve'] };
    }
    case 'unshelve':
      if (!a.shelved) return conflict('the alarm is not shelved');
      return { ok: true, alarm: { ...a, shelved: null, updatedAt: at }, events: ['unshelve'] };
    case 'comment':
      if (a.comments.length >= MAX_COMMENTS) return conflict(`alarm ${a.id} has the most comments an alarm keeps (${MAX_COMMENTS})`);
      return { ok: true, alarm: { ...a, comments: [...a.comments, { by: action.by, text: action.text, at }], updatedAt: at }, events: ['comment'] };
    case 'assign':
      return { ok: true, alarm: { ...a, assignee: action.assignee, updatedAt: at }, events: ['assign'] };
  }
}

/** Closes the alarm when it is cleared, acknowledged and, where its severity requires, disposed. */
export function closeIfDone(a: Alarm, events: AlarmEventKind[], at: string, policy: EscalationPolicy): Done {
  const done = a.clearedAt !== null && a.acknowledged !== null && (a.disposal !== null || !policy.disposalRequired.includes(a.severity));
  if (!done || a.closedAt !== null) return { ok: true, alarm: a, events };
  return { ok: true, alarm: { ...a, closedAt: at }, events: [...events, 'close'] };
}

/**
 * The escalation level an active, unacknowledged alarm (not shelved, not out of service) has reached at `now`
 * (ms); the level it has otherwise. An alarm that has cleared by itself no longer escalates: the danger is over, it
 * only waits for its acknowledgement.
 */
export function escalationDue(a: Alarm, policy: EscalationPolicy, now: number): JurisdictionLevel {
  const steps = policy.bySeverity[a.severity];
  if (steps === null || !isActive(a) || a.acknowledged !== null || a.shelved !== null || a.outOfService !== null || a.closedAt !== null) return a.escalation.level;
  // Server time on both sides: a gateway clock hours behind must not escalate its alarms at once.
  const waited = (now - Date.parse(a.detectedAt)) / 1000;
  const due: JurisdictionLevel = waited >= steps.cityAfterS ? 'city' : waited >= steps.countyAfterS ? 'county' : 'enterprise';
  return rank(due) > rank(a.escalation.level) ? due : a.escalation.level;
}

export function rank(level: JurisdictionLevel): number {
  return level === 'enterprise' ? 0 : level === 'county' ? 1 : 2;
}
