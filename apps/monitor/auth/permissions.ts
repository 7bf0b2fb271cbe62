import type { Alarm, Role } from '#libs/contracts/index.js';
import { type Access, SYSTEM_ENTERPRISE } from './access.js';

/** Everything a caller may be refused, one name per kind of act (docs/security.md has the table). */
export type Permission =
  | 'read'
  | 'alarm.ack'
  | 'alarm.dispose'
  | 'alarm.comment'
  | 'alarm.assign'
  | 'alarm.shelve'
  | 'point.maintenance'
  | 'audit.read'
  | 'audit.verify'
  | 'dead_letters.read'
  | 'registry.reload'
  | 'users.manage'
  | 'metrics.read';

const OPERATORS: readonly Role[] = ['viewer', 'enterprise_operator', 'supervisor', 'commander', 'admin'];

/** The permission table: which roles may do what, within their jurisdiction. */
export const PERMISSION_TABLE: Readonly<Record<Permission, readonly Role[]>> = {
  read: OPERATORS,
  'alarm.ack': ['enterprise_operator', 'supervisor', 'commander', 'admin'],
  'alarm.dispose': ['enterprise_operator', 'commander', 'admin'],
  'alarm.comment': ['enterprise_operator', 'supervisor', 'commander', 'admin'],
  'alarm.assign': ['enterprise_operator', 'supervisor', 'commander', 'admin'],
  'alarm.shelve': ['supervisor', 'commander', 'admin'],
  'point.maintenance': ['commander', 'admin'],
  'audit.read': ['supervisor', 'commander', 'admin'],
  'audit.verify': ['admin'],
  'dead_letters.read': ['commander', 'admin'],
  'registry.reload': ['admin'],
  'users.manage': ['admin'],
  'metrics.read': ['admin', 'metrics'],
};

/** Acts on the whole platform: only for callers whose jurisdiction is everything, whatever their role. */
const PLATFORM_WIDE: ReadonlySet<Permission> = new Set<Permission>(['registry.reload', 'audit.verify', 'metrics.read']);

/** Alarm actions by verb of `POST /api/alarms/:id/:verb`. */
export const ALARM_VERB_PERMISSION: Readonly<Record<string, Permission>> = {
  ack: 'alarm.ack',
  dispose: 'alarm.dispose',
  shelve: 'alarm.shelve',
  unshelve: 'alarm.shelve',
  comments: 'alarm.comment',
  assign: 'alarm.assign',
};

const SYSTEM_ACTORS: readonly Role[] = ['commander', 'admin'];

/** The permission of an alarm verb, or undefined for a verb that is not an action. */
export function alarmVerbPermission(verb: string): Permission | undefined {
  return Object.hasOwn(ALARM_VERB_PERMISSION, verb) ? ALARM_VERB_PERMISSION[verb] : undefined;
}

/**
 * What an act is done to: an enterprise's data, or one alarm (found, or only named by an id whose enterprise is
 * read from its prefix): refusals about an alarm name the id alone, whether or not it exists.
 */
export type Target = { readonly enterpriseCode: string } | { readonly alarm: Alarm } | { readonly alarmId: string; readonly enterpriseCode: string };

/**
 * The one decision of who may do what, where: null when allowed, else the reason for a 403. Role first, then
 * jurisdiction, then what the alarm's state asks of the role (a supervisor acknowledges escalated alarms only).
 */
export function refusal(access: Access, permission: Permission, target?: Target): string | null {
  const { role } = access.subject;
  if (!PERMISSION_TABLE[permission].includes(role)) return `role ${role} may not ${permission}`;
  if (PLATFORM_WIDE.has(permission) && access.enterpriseCodes !== null) return `${permission} is for callers whose jurisdiction is everything`;
  if (target === undefined) return null;
  const enterpriseCode = 'alarm' in target ? target.alarm.enterpriseCode : target.enterpriseCode;
  const alarmId = 'alarm' in target ? target.alarm.id : 'alarmId' in target ? target.alarmId : null;
  if (enterpriseCode === SYSTEM_ENTERPRISE) {
    return permission === 'read' || permission === 'audit.read' || SYSTEM_ACTORS.includes(role) ? null : `role ${role} may not ${permission} the platform's own alarms`;
  }
  if (!access.sees(enterpriseCode)) return alarmId === null ? `enterprise ${enterpriseCode} is outside your jurisdiction` : `alarm ${alarmId} is outside your jurisdiction`;
  if ('alarm' in target && permission === 'alarm.ack' && role === 'supervisor' && target.alarm.escalation.level === 'enterprise') {
    return 'a supervisor acknowledges alarms escalated beyond the enterprise; this one is still with the enterprise';
  }
  return null;
}
