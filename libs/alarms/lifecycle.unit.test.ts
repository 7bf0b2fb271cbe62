import { describe, expect, it } from 'vitest';
import type { Alarm, EscalationPolicy } from '#libs/contracts/index.js';
import { anAlarm } from '#libs/testing/builders.js';
import { act, type Action } from './lifecycle.js';

const AT = '2026-11-25T10:00:00.000Z';
const POLICY: EscalationPolicy = { bySeverity: { critical: null, major: null, minor: null, warning: null }, disposalRequired: ['critical'], maxShelveS: 600 };
const ack = { kind: 'ack', by: 'wang' } as const;
const dispose = { kind: 'dispose', by: 'wang', cause: 'c', action: 'a', handler: 'wang' } as const;
const shelve = { kind: 'shelve', by: 'li', reason: 'r', forS: 60 } as const;
const acked = { acknowledged: { by: 'wang', at: AT } };
const cleared = { status: 'CLEARED_UNACK', clearedAt: AT } as const;

function outcome(alarm: Partial<Alarm>, action: Action): string {
  const r = act(anAlarm(alarm), action, AT, POLICY);
  return r.ok ? `ok ${r.events.join('+')} ${r.alarm.status}${r.alarm.closedAt ? ' closed' : ''}` : `${r.refusal.kind}: ${r.refusal.reason}`;
}

describe('alarm state machine: every action in every state', () => {
  it.each([
    ['ack an active alarm', {}, ack, 'ok ack ACTIVE_ACK'],
    ['ack a cleared critical alarm: not closed without a disposal', cleared, ack, 'ok ack CLEARED_ACK'],
    ['ack a cleared minor alarm: closes', { ...cleared, severity: 'minor' }, ack, 'ok ack+close CLEARED_ACK closed'],
    ['ack twice', acked, ack, `conflict: already acknowledged by wang at ${AT}`],
    ['dispose before ack', {}, dispose, 'conflict: acknowledge the alarm before recording its disposal'],
    ['dispose an acknowledged active alarm: stays open until cleared', { ...acked, status: 'ACTIVE_ACK' }, dispose, 'ok dispose ACTIVE_ACK'],
    ['dispose an acknowledged cleared alarm: closes', { ...acked, status: 'CLEARED_ACK', clearedAt: AT }, dispose, 'ok dispose+close CLEARED_ACK closed'],
    ['dispose twice', { ...acked, disposal: { cause: 'c', action: 'a', handler: 'zhang', at: AT } }, dispose, `conflict: already disposed by zhang at ${AT}`],
    ['shelve an active alarm', {}, shelve, 'ok shelve ACTIVE_UNACK'],
    ['shelve a cleared alarm', cleared, shelve, 'conflict: only an active alarm can be shelved'],
    ['shelve for too long', {}, { ...shelve, forS: 601 }, 'invalid: forS 601 is longer than the 600 s an alarm may be shelved'],
    ['shelve twice', { shelved: { by: 'li', reason: 'r', at: AT, until: AT } }, shelve, `conflict: already shelved by li until ${AT}`],
    ['unshelve a shelved alarm', { shelved: { by: 'li', reason: 'r', at: AT, until: AT } }, { kind: 'unshelve', by: 'li' }, 'ok unshelve ACTIVE_UNACK'],
    ['unshelve one not shelved', {}, { kind: 'unshelve', by: 'li' }, 'conflict: the alarm is not shelved'],
    ['comment', {}, { kind: 'comment', by: 'li', text: 't' }, 'ok comment ACTIVE_UNACK'],
    ['assign', {}, { kind: 'assign', by: 'li', assignee: 'zhang' }, 'ok assign ACTIVE_UNACK'],
    ['ack a closed alarm', { closedAt: AT }, ack, `conflict: alarm x was closed at ${AT}`],
    ['comment on a closed alarm', { closedAt: AT }, { kind: 'comment', by: 'li', text: 't' }, 'ok comment ACTIVE_UNACK closed'],
    ['comment past the most an alarm keeps', { comments: Array.from({ length: 200 }, () => ({ by: 'li', text: 't', at: AT })) }, { kind: 'comment', by: 'li', text: 't' }, 'conflict: alarm x has the most comments an alarm keeps (200)'],
  ] as const)('%s', (_, state, action, expected) => {
    expect(outcome({ id: 'x', ...state }, action)).toBe(expected);
  });
});
