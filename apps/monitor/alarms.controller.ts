import type { ServerResponse } from 'node:http';
import { BadRequestException, Body, ConflictException, Controller, ForbiddenException, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Res, ServiceUnavailableException } from '@nestjs/common';
import { z } from 'zod';
import { CONDITION_TYPES, type Alarm, type AlarmSeverity, type AlarmStatus, type AuditEntry, type AuditVerification, type DeliveryRecord, type EscalationPolicy, type MaintenanceWindow } from '#libs/contracts/index.js';
import { alarmReport, type Action } from '#libs/alarms/index.js';
import { instant, oneOf, pageOf, regionParam, setPageHeaders } from './paging.js';
import { AlarmStoreUnavailable } from './pipeline.js';
import { type Caller, CallerOf, Permit } from './auth/decorators.js';
import { alarmVerbPermission } from './auth/permissions.js';
import { parseBody } from './http/body.js';
import { RUNTIME, type MonitorRuntime } from './runtime.js';

const STATES = ['active', 'open', 'closed', 'all'] as const;
const REPORT_MAX_ALARMS = 200_000;
const STATUSES: readonly AlarmStatus[] = ['ACTIVE_UNACK', 'ACTIVE_ACK', 'CLEARED_UNACK', 'CLEARED_ACK'];
const SEVERITIES: readonly AlarmSeverity[] = ['critical', 'major', 'minor', 'warning'];
const CONDITIONS = CONDITION_TYPES;

/** A person's change the alarm store could not take is refused whole: 503, nothing applied. */
function stored<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof AlarmStoreUnavailable) throw new ServiceUnavailableException(err.message);
    throw err;
  }
}

const who = z.string().trim().min(1, 'who: a non-empty name').max(100);
/** Who acts is the signed-in caller; a `by` still sent by an older client must name that caller. */
const by = who.optional();
const text = (what: string) => z.string().trim().min(1, `${what}: a non-empty text`).max(2000);
export const BODIES = {
  ack: z.strictObject({ by }),
  dispose: z.strictObject({ by, cause: text('cause'), action: text('action'), handler: who }),
  shelve: z.strictObject({ by, reason: text('reason'), forS: z.number().int().positive() }),
  unshelve: z.strictObject({ by }),
  comments: z.strictObject({ by, text: text('text') }),
  assign: z.strictObject({ by, assignee: who }),
} as const;

type Verb = keyof typeof BODIES;
const MAINTENANCE = z.strictObject({ by, reason: text('reason'), forS: z.number().int().positive().max(30 * 86_400) });

/** A phone number or address shown by its last four characters only. */
function masked(contact: string | null): string | null {
  return contact === null ? null : `…${contact.slice(-4)}`;
}

/** The signed-in caller's name; a `by` in the body that names someone else is refused. */
function actor(caller: Caller, claimed: string | undefined): string {
  const { username } = caller.subject;
  if (claimed !== undefined && claimed !== username) throw new BadRequestException(`by: "${claimed}" is not the signed-in user ${username}; leave it out`);
  return username;
}

function actionOf(verb: Verb, body: unknown, caller: Caller): Action {
  const parsed = parseBody(BODIES[verb], body) as Record<string, unknown> & { by?: string };
  const b: Record<string, unknown> & { by: string } = { ...parsed, by: actor(caller, parsed.by) };
  switch (verb) {
    case 'ack':
      return { kind: 'ack', by: b.by };
    case 'dispose':
      return { kind: 'dispose', by: b.by, cause: b.cause as string, action: b.action as string, handler: b.handler as string };
    case 'shelve':
      return { kind: 'shelve', by: b.by, reason: b.reason as string, forS: b.forS as number };
    case 'unshelve':
      return { kind: 'unshelve', by: b.by };
    case 'comments':
      return { kind: 'comment', by: b.by, text: b.text as string };
    case 'assign':
      return { kind: 'assign', by: b.by, assignee: b.assignee as string };
  }
}

/** Alarms: query, one alarm, its audit trail, and the closed loop (acknowledge, dispose, shelve, comment, assign). */
@Controller('api')
export class AlarmsController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  /**
   * Newest raised first, paged (X-Total-Count, Link). `state`: active | open (not closed) | closed | all; the
   * former `status=active|all` still works.
   */
  @Get('alarms')
  @Permit('read')
  list(@Query() q: Record<string, string | undefined>, @CallerOf() caller: Caller, @Res({ passthrough: true }) res: ServerResponse): Alarm[] {
    const legacy = q.status === 'active' || q.status === 'all' ? q.status : undefined;
    const page = pageOf(q.offset, q.limit, 500, 5000);
    const regionCode = regionParam(q.regionCode);
    const filter = {
      state: oneOf('state', q.state ?? legacy, STATES) ?? 'all',
      status: legacy ? undefined : oneOf('status', q.status, STATUSES),
      severity: oneOf('severity', q.severity, SEVERITIES),
      condition: oneOf('condition', q.condition, CONDITIONS),
      enterpriseCode: q.enterpriseCode,
      hazardSourceCode: q.hazardSourceCode,
      enterpriseCodes: caller.access.narrow(regionCode === undefined ? undefined : this.rt.registry.registry.queryEnterprises({ regionCode }).map((e) => e.code)),
      from: q.from === undefined ? undefined : instant('from', q.from, 0),
      to: q.to === undefined ? undefined : instant('to', q.to, 0),
      ...page,
    };
    const { total, items } = this.rt.alarmStore.query(filter);
    setPageHeaders(res, '/api/alarms', q, page, total);
    return items;
  }

  /** When unacknowledged alarms escalate to the county and city, and which severities need a disposal record. */
  @Get('alarms/policy')
  @Permit('read')
  policy(): EscalationPolicy {
    return this.rt.escalation;
  }

  @Get('alarms/:id')
  @Permit('read', 'alarm')
  one(@Param('id') id: string): Alarm {
    const alarm = this.rt.pipeline.book.find(id) ?? this.rt.alarmStore.get(id);
    if (!alarm) throw new NotFoundException(`no alarm ${id}`);
    return alarm;
  }

  @Get('alarms/:id/audit')
  @Permit('read', 'alarm')
  trail(@Param('id') id: string): AuditEntry[] {
    this.one(id);
    return this.rt.auditLog.list({ alarmId: id, offset: 0, limit: 10_000 }).items;
  }

  /** The notifications of an alarm: each message, its recipient and channel, and what became of it. */
  @Get('alarms/:id/notifications')
  @Permit('read', 'alarm')
  notifications(@Param('id') id: string): DeliveryRecord[] {
    this.one(id);
    // Who was told, not how to reach them: duty officers' numbers and addresses stay in notify.yaml.
    return (this.rt.notifier?.forAlarm(id) ?? []).map((r) => ({ ...r, recipient: { name: r.recipient.name, phone: masked(r.recipient.phone), email: masked(r.recipient.email) } }));
  }

  @Post('alarms/:id/:verb')
  @Permit((params) => alarmVerbPermission(params.verb ?? ''), 'alarm')
  @HttpCode(200)
  action(@Param('id') id: string, @Param('verb') verb: string, @Body() body: unknown, @CallerOf() caller: Caller): Alarm {
    if (!Object.hasOwn(BODIES, verb)) throw new NotFoundException(`no action ${verb}; expected one of ${Object.keys(BODIES).join(', ')}`);
    const action = actionOf(verb as Verb, body, caller);
    const result = stored(() => this.rt.pipeline.act(id, action, caller.origin));
    if (result.ok) return result.alarm;
    const { refusal } = result;
    if (refusal.kind === 'not_found') {
      const closed = this.rt.alarmStore.get(id);
      if (closed) throw new ConflictException(`alarm ${id} was closed at ${closed.closedAt ?? '?'}`);
      throw new NotFoundException(refusal.reason);
    }
    if (refusal.kind === 'invalid') throw new BadRequestException(refusal.reason);
    throw new ConflictException(refusal.reason);
  }

  /**
   * Supervisors' report over alarms raised in [from, to] (default: the last 24 h): per enterprise per day, mean
   * times to acknowledge and dispose, escalated and overdue alarms, gateway offline hours, ISA-18.2 figures.
   */
  @Get('reports/alarms')
  @Permit('read')
  report(@Query() q: Record<string, string | undefined>, @CallerOf() caller: Caller): { from: string; to: string } & ReturnType<typeof alarmReport> {
    const now = Date.now();
    const to = instant('to', q.to, now);
    const from = instant('from', q.from, to - 86_400_000);
    if (from > to) throw new BadRequestException(`from (${new Date(from).toISOString()}) must not be after to (${new Date(to).toISOString()})`);
    const regionCode = regionParam(q.regionCode);
    const enterprises = regionCode === undefined ? undefined : new Set(this.rt.registry.registry.queryEnterprises({ regionCode }).map((e) => e.code));
    const keep = (a: Alarm): boolean =>
      caller.access.sees(a.enterpriseCode) && (q.enterpriseCode === undefined || a.enterpriseCode === q.enterpriseCode) && (enterprises === undefined || enterprises.has(a.enterpriseCode));
    const raised = this.rt.alarmStore.query({ state: 'all', from, to, offset: 0, limit: REPORT_MAX_ALARMS }).items.filter(keep);
    const open = this.rt.alarmStore.query({ state: 'open', offset: 0, limit: REPORT_MAX_ALARMS }).items.filter(keep);
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...alarmReport(raised, open, { from, to, now, utcOffsetMin: 480 }) };
  }

  /** Takes a point out of service for maintenance (检修) for `forS` seconds (at most 30 days). */
  @Post('points/:enterpriseCode/:code/out-of-service')
  @Permit('point.maintenance', 'enterprise')
  @HttpCode(200)
  outOfService(@Param('enterpriseCode') e: string, @Param('code') code: string, @Body() body: unknown, @CallerOf() caller: Caller): MaintenanceWindow {
    this.pointOrThrow(e, code);
    const { by, reason, forS } = parseBody(MAINTENANCE, body);
    return stored(() => this.rt.pipeline.takeOutOfService(e, code, actor(caller, by), reason, forS, caller.origin));
  }

  @Post('points/:enterpriseCode/:code/in-service')
  @Permit('point.maintenance', 'enterprise')
  @HttpCode(200)
  inService(@Param('enterpriseCode') e: string, @Param('code') code: string, @Body() body: unknown, @CallerOf() caller: Caller): { inService: true } {
    this.pointOrThrow(e, code);
    const { by } = parseBody(BODIES.unshelve, body);
    if (!stored(() => this.rt.pipeline.putInService(e, code, actor(caller, by), caller.origin))) throw new ConflictException(`point ${code} is not out of service`);
    return { inService: true };
  }

  @Get('maintenance')
  @Permit('read')
  maintenance(@CallerOf() caller: Caller): MaintenanceWindow[] {
    return this.rt.pipeline.book.maintenanceWindows().filter((w) => caller.access.sees(w.enterpriseCode));
  }

  private pointOrThrow(e: string, code: string): void {
    if (!this.rt.registry.registry.findPoint(e, code)) throw new NotFoundException(`no point ${code} in enterprise ${e}`);
  }

  /** The audit chain; callers without the whole jurisdiction read it one alarm at a time (`alarmId`). */
  @Get('audit')
  @Permit('audit.read')
  audit(@Query() q: Record<string, string | undefined>, @CallerOf() caller: Caller, @Res({ passthrough: true }) res: ServerResponse): AuditEntry[] {
    if (caller.access.enterpriseCodes !== null) {
      if (q.alarmId === undefined) throw new ForbiddenException('name an alarmId: the whole audit log is for callers whose jurisdiction is everything');
      const alarm = this.one(q.alarmId);
      if (!caller.access.sees(alarm.enterpriseCode)) throw new ForbiddenException(`enterprise ${alarm.enterpriseCode} is outside your jurisdiction`);
    }
    const page = pageOf(q.offset, q.limit, 500, 5000);
    const { total, items } = this.rt.auditLog.list({ ...(q.alarmId !== undefined && { alarmId: q.alarmId }), ...page });
    setPageHeaders(res, '/api/audit', q, page, total);
    return items;
  }

  @Get('audit/verify')
  @Permit('audit.verify')
  verify(): AuditVerification {
    return this.rt.auditLog.verify();
  }
}
