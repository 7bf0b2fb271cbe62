import type { IncomingMessage } from 'node:http';
import type { NotifierHealth } from '#libs/notify/index.js';
import type { ChainHealth } from './chain-watchdog.js';
import { BadRequestException, Controller, Get, Header, Inject, NotFoundException, Param, Query, Req } from '@nestjs/common';
import type { DeadLetter, DeadLetterReason, GatewayState, PowerInterval, StoreHealth } from '#libs/contracts/index.js';
import { UNREGISTERED } from './pipeline.js';
import { RUNTIME, type MonitorRuntime } from './runtime.js';
import { type Caller, CallerOf, Permit, Public } from './auth/decorators.js';
import { PERMISSION_TABLE } from './auth/permissions.js';

export interface HealthView {
  status: 'ok' | 'degraded';
  broker?: { connected: boolean; embedded: boolean };
  stores?: { series: StoreHealth; alarms: StoreHealth };
  /** When notifications are set up: messages waiting, given up, held for a summary, and channels failing now. */
  notifications?: NotifierHealth;
  /** The heartbeat through the broker (docs/watchdog.md). */
  chain?: ChainHealth;
}

function parseLimit(raw: string | undefined, max: number): number {
  if (raw === undefined) return Math.min(500, max);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new BadRequestException(`limit must be an integer from 1 to ${max}, got "${raw}"`);
  return n;
}

@Controller()
export class HealthController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  /** Open to all with ok/degraded only; the broker and stores in detail for a signed-in caller. */
  @Get('health')
  @Public()
  health(@Req() req: IncomingMessage): HealthView {
    const broker = { connected: this.rt.ingest.connected, embedded: this.rt.embeddedBroker };
    const stores = { series: this.rt.seriesStore.health(), alarms: this.rt.pipeline.alarmStoreHealth() };
    const notifications = this.rt.notifier?.health();
    const chain = this.rt.chain.health();
    // A channel that is down degrades the monitor's health: people on duty are not being told (retried meanwhile).
    const status = broker.connected && stores.series.ok && stores.alarms.ok && chain.ok && (notifications?.ok ?? true) ? 'ok' : 'degraded';
    const subject = this.rt.auth.authenticate(req);
    return subject !== null && PERMISSION_TABLE.read.includes(subject.role) ? { status, broker, stores, chain, ...(notifications !== undefined && { notifications }) } : { status };
  }

  @Get('metrics')
  @Permit('metrics.read')
  @Header('content-type', 'text/plain; version=0.0.4')
  async metrics(): Promise<string> {
    const m = this.rt.metrics;
    m.wsClients.set(this.rt.hub.clientCount);
    m.alarmStoreUnsaved.set(this.rt.pipeline.unsavedRecords);
    const active = this.rt.pipeline.book.activeAlarms();
    const quality = this.rt.dataQuality.report(Date.now(), active);
    const expected = quality.reduce((n, q) => n + q.expected, 0);
    m.dataCompleteness.set(expected === 0 ? 1 : Math.min(1, quality.reduce((n, q) => n + q.received, 0) / expected));
    m.enterprisesIncomplete.set(active.filter((a) => a.condition === 'data_incomplete').length);
    const notifier = this.rt.notifier;
    if (notifier !== null) {
      const h = notifier.health();
      for (const state of ['pending', 'failed', 'held'] as const) m.notifications.set({ state }, h[state]);
      for (const c of notifier.channelNames) m.notificationChannelFailing.set({ channel: c }, h.failing[c] === undefined ? 0 : 1);
    }
    return this.rt.metrics.registry.metrics();
  }
}

export interface GatewayView {
  readonly enterpriseCode: string;
  readonly gatewayCode: string;
  readonly registered: boolean;
  readonly state: GatewayState | 'unknown';
  readonly since: string | null;
  readonly reportingPeriodS: number | null;
  readonly refused: Readonly<Partial<Record<DeadLetterReason, number>>>;
}

@Controller('api')
export class ApiController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  /** Every registered gateway with its last status and what it sent that was refused, plus unregistered senders. */
  @Get('gateways')
  @Permit('read')
  gateways(@CallerOf() caller: Caller): GatewayView[] {
    const refusals = this.rt.pipeline.refusalsByGateway();
    const visible = this.rt.registry.registry.allGateways().filter((g) => caller.access.sees(g.enterpriseCode));
    const out: GatewayView[] = visible.map((g) => {
      const status = this.rt.pipeline.gatewayStatus(g.enterpriseCode, g.code);
      return {
        enterpriseCode: g.enterpriseCode,
        gatewayCode: g.code,
        registered: true,
        state: status?.state ?? 'unknown',
        since: status?.since ?? null,
        reportingPeriodS: g.reportingPeriodS,
        refused: refusals.get(`${g.enterpriseCode}/${g.code}`) ?? {},
      };
    });
    const stray = refusals.get(`${UNREGISTERED}/${UNREGISTERED}`);
    if (stray && caller.access.enterpriseCodes === null) {
      out.push({ enterpriseCode: UNREGISTERED, gatewayCode: UNREGISTERED, registered: false, state: 'unknown', since: null, reportingPeriodS: null, refused: stray });
    }
    return out;
  }

  /** The enterprise's 15-minute power profile (last two days) with the usual value of each slot once learned. */
  @Get('enterprises/:code/power-profile')
  @Permit('read', 'enterprise')
  powerProfile(@Param('code') code: string): { enterpriseCode: string; intervalS: number; intervals: { start: string; kw: number; baselineKw: number | null }[] } {
    if (!this.rt.registry.registry.findEnterprise(code)) throw new NotFoundException(`no enterprise ${code}`);
    const intervals = this.rt.pipeline.powerProfile(code).map((i: PowerInterval) => ({ start: new Date(i.start).toISOString(), kw: i.kw, baselineKw: i.baselineKw }));
    return { enterpriseCode: code, intervalS: 900, intervals };
  }

  /** What gateways sent that was refused; a caller without the whole jurisdiction sees its enterprises' topics only. */
  @Get('dead-letters')
  @Permit('dead_letters.read')
  deadLetters(@Query('limit') limit: string | undefined, @CallerOf() caller: Caller): DeadLetter[] {
    const all = this.rt.alarmStore.listDeadLetters(parseLimit(limit, 1000));
    if (caller.access.enterpriseCodes === null) return all;
    return all.filter((d) => {
      const enterpriseCode = d.topic.split('/')[1];
      return enterpriseCode !== undefined && enterpriseCode !== 'system' && caller.access.sees(enterpriseCode);
    });
  }
}
