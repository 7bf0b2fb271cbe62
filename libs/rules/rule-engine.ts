import type {
  CompositeRule,
  ConditionChange,
  ConditionLevel,
  ConditionType,
  Gateway,
  LimitLevel,
  Originator,
  Point,
  PowerInterval,
  Reading,
  ReadingBatch,
  RuleContext,
  VotingGroup,
} from '#libs/contracts/index.js';
import { ChatterGuard, ISA_CHATTER, type ChatterSettings } from './chatter.guard.js';
import { change, conditionKey, num, parseConditionKey } from './condition.js';
import { compositeHolds, compositeSlopeWindowS } from './composite.rule.js';
import { FloodGuard, ISA_FLOOD, type FloodSettings } from './flood.guard.js';
import { highLevel, limitOf, lowLevel, rankOf, type HighLevel } from './limit.rule.js';
import { BAD_QUALITY, NO_DATA, OUT_OF_RANGE, PointState, RATE, STUCK, TREND, slopeWindowMs } from './point-state.js';
import { PowerProfile } from './power.rule.js';

export interface EngineOptions {
  /** Readings older than the newest of their point by at most this are checked for a missed excursion. */
  readonly lateWindowMs: number;
  /** A gateway silent for this many reporting periods is offline. */
  readonly gatewaySilencePeriods: number;
  readonly chatter: ChatterSettings;
  readonly flood: FloodSettings;
  /** A power interval still open this long after its end is closed by the clock. */
  readonly powerGraceMs: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  lateWindowMs: 300_000,
  gatewaySilencePeriods: 3,
  chatter: ISA_CHATTER,
  flood: ISA_FLOOD,
  powerGraceMs: 60_000,
};

export type Emit = (c: ConditionChange) => void;

class GatewayState {
  offline: 'status' | 'silence' | null = null;
  constructor(
    readonly gateway: Gateway,
    public lastArrival: number,
  ) {}
}

class VoteState {
  readonly tripped = new Set<Point>();
  constructor(
    readonly group: VotingGroup,
    readonly key: string,
  ) {}
}

class CompositeState {
  pendingSince: number | null = null;
  constructor(
    readonly rule: CompositeRule,
    readonly key: string,
  ) {}
}

export interface EngineStats {
  /** Readings older than their point's newest, within the late window: checked for a missed excursion only. */
  late: number;
  /** Older than the late window: stored, not evaluated. */
  tooLate: number;
  /** Same timestamp as the point's newest (a redelivery): ignored. */
  duplicate: number;
}

const noop = (): void => undefined;

function severityOfLimit(level: LimitLevel): 'critical' | 'major' {
  return rankOf(level) === 2 ? 'critical' : 'major';
}

/**
 * The rule core: every rule of docs/rules.md over batches of readings, gateway status and the clock. Pure and
 * synchronous: no I/O, no timers of its own; time comes in as arguments (event time on readings, processing time
 * for arrivals and ticks). Conditions go out through chatter protection, then flood grouping.
 */
export class RuleEngine {
  readonly stats: EngineStats = { late: 0, tooLate: 0, duplicate: 0 };
  /** Called with each closed 15-minute power interval. */
  onInterval: (i: PowerInterval) => void = noop;
  private ctx!: RuleContext;
  private readonly options: EngineOptions;
  private states = new Map<Point, PointState>();
  /** Points by `enterprise/code`, built only while restoring or reloading (not kept: ~100 B a point). */
  private pointIndex: Map<string, Point> | null = null;
  private gateways = new Map<string, GatewayState>();
  /** Non-point conditions in force (gateway, vote, composite, power), by key. */
  private readonly active = new Map<string, ConditionLevel>();
  private votesByPoint = new Map<Point, VoteState[]>();
  private compositesByPoint = new Map<Point, CompositeState[]>();
  private compositeSlopeS = new Map<Point, number>();
  private power = new Map<string, PowerProfile>();
  private readonly chatter: ChatterGuard;
  private readonly flood: FloodGuard;
  private emitOut: Emit = noop;
  private readonly toFlood: Emit = (c) => this.flood.pass(c, this.emitOut);
  private readonly sink: Emit = (c) => this.chatter.pass(c, this.toFlood);

  constructor(
    ctx: RuleContext,
    private readonly startedAt: number,
    options: Partial<EngineOptions> = {},
  ) {
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    this.chatter = new ChatterGuard(this.options.chatter);
    this.flood = new FloodGuard(this.options.flood);
    this.index(ctx);
  }

  /** Evaluates one batch (one gateway message). Readings are taken in event-time order. */
  readings(batch: ReadingBatch, arrivedAt: number, emit: Emit): void {
    this.emitOut = emit;
    const ordered = isOrdered(batch) ? batch : [...batch].sort((a, b) => a.ts - b.ts);
    let gw: GatewayState | undefined;
    for (let i = 0; i < ordered.length; i++) {
      const r = ordered[i]!;
      const p = r.point;
      let st = this.states.get(p);
      if (st === undefined) st = this.stateOf(p, arrivedAt);
      st.lastArrival = arrivedAt;
      if (gw === undefined || gw.gateway.code !== p.gatewayCode || gw.gateway.enterpriseCode !== p.enterpriseCode) {
        gw = this.gateways.get(`${p.enterpriseCode}/${p.gatewayCode}`);
        if (gw) this.gatewaySeen(gw, arrivedAt, r.ts);
      }
      if (r.ts <= st.lastTs) {
        this.late(st, r);
        continue;
      }
      this.evaluate(st, r);
    }
  }

  /** A gateway's status message (online / offline, e.g. its MQTT last will). */
  gatewayStatus(enterpriseCode: string, gatewayCode: string, state: 'online' | 'offline', at: number, emit: Emit): void {
    this.emitOut = emit;
    const gs = this.gateways.get(`${enterpriseCode}/${gatewayCode}`);
    if (!gs) return;
    gs.lastArrival = at;
    if (state === 'online') this.gatewaySeen(gs, at, at);
    else if (gs.offline !== 'status') this.setGatewayOffline(gs, 'status', at, 'gateway reported offline on its status topic');
  }

  /** The clock: data interruption, gateway silence, chatter release, flood end, power intervals. */
  tick(now: number, emit: Emit): void {
    this.emitOut = emit;
    for (const gs of this.gateways.values()) {
      if (gs.offline !== null) continue;
      const silentMs = now - gs.lastArrival;
      const limitMs = this.options.gatewaySilencePeriods * gs.gateway.reportingPeriodS * 1000;
      if (silentMs > limitMs) {
        this.setGatewayOffline(gs, 'silence', now, `no message from the gateway for ${Math.round(silentMs / 1000)} s (${this.options.gatewaySilencePeriods} reporting periods of ${gs.gateway.reportingPeriodS} s)`);
      }
    }
    for (const p of this.ctx.points) {
      const periods = p.rules.noDataPeriods;
      if (periods <= 0) continue;
      const st = this.states.get(p);
      const silentMs = now - (st?.lastArrival ?? this.startedAt);
      if (silentMs <= periods * p.samplePeriodS * 1000 || (st !== undefined && (st.flags & NO_DATA) !== 0)) continue;
      // Suppressed by design while the point's gateway is offline: one gateway alarm, not one per point.
      if (this.gateways.get(`${p.enterpriseCode}/${p.gatewayCode}`)?.offline) continue;
      const s = st ?? this.stateOf(p, this.startedAt);
      this.raiseFlag(s, NO_DATA, 'no_data', now, null, `${p.name}: no reading for ${Math.round(silentMs / 1000)} s (${periods} sample periods of ${p.samplePeriodS} s)`);
      this.evaluateComposites(s, now);
    }
    for (const profile of this.power.values()) profile.closeIfDue(now, this.options.powerGraceMs, this.sink, this.onInterval);
    this.chatter.tick(now, this.toFlood);
    this.flood.tick(now, emit);
  }

  /**
   * State from the alarms still active before a restart, so they are neither raised again nor forgotten:
   * the next reading clears or keeps them as it would have without the restart.
   */
  restore(active: readonly { readonly key: string; readonly level: ConditionLevel }[]): void {
    for (const { key, level } of active) {
      const k = parseConditionKey(key);
      if (!k) continue;
      if (k.kind === 'enterprise' && k.condition === 'alarm_flood') {
        this.flood.restore(k.enterpriseCode, key);
        continue;
      }
      if (k.kind !== 'point') {
        this.active.set(key, level);
        if (k.kind === 'gateway') {
          const gs = this.gateways.get(`${k.enterpriseCode}/${k.code}`);
          if (gs) gs.offline = 'status';
        }
        continue;
      }
      const p = this.findPoint(k.enterpriseCode, k.code);
      if (!p) continue;
      const st = this.states.get(p) ?? this.stateOf(p, this.startedAt);
      if (k.condition === 'limit_high' && (level === 'H' || level === 'HH')) st.high.level = level;
      else if (k.condition === 'limit_low' && (level === 'L' || level === 'LL')) st.low.level = level;
      else st.flags |= POINT_FLAG[k.condition] ?? 0;
    }
    this.pointIndex = null;
    this.retally();
  }

  /**
   * After a registry reload: each point's state moves to its new version, so alarms in force stay in force and the
   * next reading is judged by the new settings; points no longer registered are forgotten.
   */
  reload(ctx: RuleContext): void {
    const old = this.states;
    this.index(ctx);
    for (const [p, st] of old) {
      const next = this.findPoint(p.enterpriseCode, p.code);
      if (!next) continue;
      st.moveTo(next);
      this.states.set(next, st);
    }
    this.pointIndex = null;
    this.retally();
  }

  private findPoint(enterpriseCode: string, code: string): Point | undefined {
    this.pointIndex ??= new Map(this.ctx.points.map((p) => [`${p.enterpriseCode}/${p.code}`, p]));
    return this.pointIndex.get(`${enterpriseCode}/${code}`);
  }

  /** Voting tallies from the points' levels (after a restore or reload). */
  private retally(): void {
    for (const [p, votes] of this.votesByPoint) {
      const level = this.states.get(p)?.high.level ?? null;
      for (const v of votes) if (level !== null && rankOf(level) >= rankOf(v.group.level)) v.tripped.add(p);
    }
  }

  /** Whether a condition key still names something the rules evaluate (after a reload: a removed point does not). */
  covers(key: string): boolean {
    const k = parseConditionKey(key);
    if (!k) return false;
    const e = k.enterpriseCode;
    switch (k.kind) {
      case 'point':
        return this.findPoint(e, k.code) !== undefined;
      case 'gateway':
        return this.gateways.has(`${e}/${k.code}`);
      case 'area':
        return this.ctx.votingGroups.some((g) => g.enterpriseCode === e && g.code === k.code);
      case 'hazard_source':
        return this.ctx.composites.some((c) => c.enterpriseCode === e && c.hazardSourceCode === k.code && c.name === k.name);
      case 'enterprise':
        return k.condition === 'alarm_flood' || this.ctx.electricity.some((x) => x.enterpriseCode === e);
    }
  }

  /** Keys of conditions currently held back as chattering. */
  chatteringKeys(): string[] {
    return this.chatter.chatteringKeys();
  }

  private index(ctx: RuleContext): void {
    this.ctx = ctx;
    this.states = new Map();
    const gateways = new Map<string, GatewayState>();
    for (const g of ctx.gateways) {
      const key = `${g.enterpriseCode}/${g.code}`;
      const prev = this.gateways.get(key);
      const gs = new GatewayState(g, prev?.lastArrival ?? this.startedAt);
      gs.offline = prev?.offline ?? null;
      gateways.set(key, gs);
    }
    this.gateways = gateways;
    this.votesByPoint = new Map();
    for (const group of ctx.votingGroups) {
      const o: Originator = { kind: 'area', enterpriseCode: group.enterpriseCode, code: group.code, hazardSourceCode: group.hazardSourceCode, gatewayCode: null };
      const vs = new VoteState(group, conditionKey(o, 'vote', null));
      for (const p of group.points) this.votesByPoint.set(p, [...(this.votesByPoint.get(p) ?? []), vs]);
    }
    this.compositesByPoint = new Map();
    this.compositeSlopeS = compositeSlopeWindowS(ctx.composites);
    for (const rule of ctx.composites) {
      const cs = new CompositeState(rule, conditionKey(compositeOriginator(rule), 'composite', rule.name));
      for (const clause of rule.clauses) {
        for (const p of clause.points) {
          const list = this.compositesByPoint.get(p) ?? [];
          if (!list.includes(cs)) list.push(cs);
          this.compositesByPoint.set(p, list);
        }
      }
    }
    const power = new Map<string, PowerProfile>();
    for (const setting of ctx.electricity) {
      const points = ctx.points.filter((p) => p.enterpriseCode === setting.enterpriseCode && p.type === 'power');
      power.set(setting.enterpriseCode, (this.power.get(setting.enterpriseCode) ?? new PowerProfile(setting, this.active)).reconfigure(setting, points, this.active));
    }
    this.power = power;
  }

  private stateOf(p: Point, arrival: number): PointState {
    const st = new PointState(p, arrival, slopeWindowMs(p, this.compositeSlopeS.get(p) ?? null));
    this.states.set(p, st);
    return st;
  }

  private evaluate(st: PointState, r: Reading): void {
    const p = st.point;
    const { ts, value } = r;
    st.lastTs = ts;
    if (st.flags & NO_DATA) this.clearFlag(st, NO_DATA, 'no_data', ts, `${p.name}: data again (${num(value)} ${p.unit})`);
    if (r.quality !== 'good' || !Number.isFinite(value)) {
      if (!(st.flags & BAD_QUALITY)) this.raiseFlag(st, BAD_QUALITY, 'bad_quality', ts, null, `${p.name}: ${r.quality !== 'good' ? 'gateway marked the reading bad' : 'value is not a number'}; limits held`);
      this.evaluateComposites(st, ts);
      return;
    }
    if (st.flags & BAD_QUALITY) this.clearFlag(st, BAD_QUALITY, 'bad_quality', ts, `${p.name}: good readings again`);
    const range = p.range;
    if (range !== null && (value < range[0] || value > range[1])) {
      if (!(st.flags & OUT_OF_RANGE)) {
        this.raiseFlag(st, OUT_OF_RANGE, 'out_of_range', ts, value, `${p.name}: ${num(value)} ${p.unit} outside the measuring range [${range[0]}, ${range[1]}]: sensor fault, limits held`);
      }
      this.evaluateComposites(st, ts);
      return;
    }
    if (st.flags & OUT_OF_RANGE) this.clearFlag(st, OUT_OF_RANGE, 'out_of_range', ts, `${p.name}: back in range (${num(value)} ${p.unit})`);
    st.value = value;

    const onMs = p.onDelayS * 1000;
    const offMs = p.offDelayS * 1000;
    const prevHigh = st.high.level;
    if (st.high.step(highLevel(prevHigh, value, p.limits, p.deadband), ts, onMs, offMs)) {
      this.limitChange(st, 'limit_high', prevHigh, st.high.level, value, ts);
      const votes = this.votesByPoint.get(p);
      if (votes) this.vote(votes, p, st.high.level, ts);
    }
    const prevLow = st.low.level;
    if (st.low.step(lowLevel(prevLow, value, p.limits, p.deadband), ts, onMs, offMs)) this.limitChange(st, 'limit_low', prevLow, st.low.level, value, ts);

    const stuck = p.rules.stuck;
    if (stuck !== null) this.stuck(st, stuck.periods, stuck.band, value, ts);
    if (st.slope !== null) {
      st.slope.add(ts, value);
      if (p.rules.rate !== null || p.rules.trend !== null) this.trends(st, ts);
    }
    if (this.compositesByPoint.has(p)) this.evaluateComposites(st, ts);
    if (p.type === 'power') this.power.get(p.enterpriseCode)?.add(p, value, ts, this.sink, this.onInterval);
  }

  /**
   * A reading older than its point's newest cannot change the present state, which a newer reading decided.
   * Within the late window it is still checked: an excursion beyond the current level (e.g. in a buffer the
   * gateway replays after a link outage) is recorded as raised and at once returned, so it is not missed.
   */
  private late(st: PointState, r: Reading): void {
    if (r.ts === st.lastTs) {
      this.stats.duplicate++;
      return;
    }
    if (st.lastTs - r.ts > this.options.lateWindowMs) {
      this.stats.tooLate++;
      return;
    }
    this.stats.late++;
    const p = st.point;
    const v = r.value;
    if (r.quality !== 'good' || !Number.isFinite(v) || p.onDelayS > 0) return;
    if (p.range !== null && (v < p.range[0] || v > p.range[1])) return;
    const at = new Date(r.ts).toISOString();
    const high = highLevel(null, v, p.limits, 0);
    if (rankOf(high) > rankOf(st.high.level)) this.excursion(st, 'limit_high', st.high.level, high!, v, r.ts, at);
    const low = lowLevel(null, v, p.limits, 0);
    if (rankOf(low) > rankOf(st.low.level)) this.excursion(st, 'limit_low', st.low.level, low!, v, r.ts, at);
  }

  private excursion(st: PointState, condition: 'limit_high' | 'limit_low', current: LimitLevel | null, peak: LimitLevel, value: number, ts: number, at: string): void {
    const p = st.point;
    const limit = limitOf(peak, p.limits);
    const base = { originator: st.originator, condition, value, unit: p.unit, threshold: limit, ts } as const;
    this.sink(change({ ...base, from: current, to: peak, severity: severityOfLimit(peak), message: `${p.name}: late reading of ${at} shows ${num(value)} ${p.unit} beyond ${peak} ${num(limit)}: momentary excursion` }));
    this.sink(change({ ...base, from: peak, to: current, severity: severityOfLimit(peak), message: `${p.name}: the excursion of ${at} had already passed when it arrived` }));
  }

  private limitChange(st: PointState, condition: 'limit_high' | 'limit_low', from: LimitLevel | null, to: LimitLevel | null, value: number, ts: number): void {
    const p = st.point;
    const up = rankOf(to) > rankOf(from);
    const level = (up ? to : from)!;
    const threshold = limitOf(level, p.limits);
    const v = `${num(value)} ${p.unit}`;
    const message =
      to === null
        ? `${p.name}: back to normal at ${v}`
        : up
          ? `${p.name}: ${v} ${condition === 'limit_high' ? '≥' : '≤'} ${to} ${num(threshold)} ${p.unit}`
          : `${p.name}: ${v}, back from ${from} ${num(threshold)} ${p.unit} to ${to}`;
    this.sink(change({ originator: st.originator, condition, from, to, severity: severityOfLimit(to ?? from!), value, threshold, unit: p.unit, ts, message }, st.key(condition)));
  }

  private stuck(st: PointState, periods: number, band: number, value: number, ts: number): void {
    if (Number.isNaN(st.stuckAnchor) || Math.abs(value - st.stuckAnchor) > band) {
      st.stuckAnchor = value;
      st.stuckCount = 1;
      if (st.flags & STUCK) this.clearFlag(st, STUCK, 'sensor_stuck', ts, `${st.point.name}: moving again (${num(value)} ${st.point.unit})`);
      return;
    }
    st.stuckCount++;
    if (st.stuckCount >= periods && !(st.flags & STUCK)) {
      this.raiseFlag(st, STUCK, 'sensor_stuck', ts, value, `${st.point.name}: ${st.stuckCount} readings within ±${num(band)} ${st.point.unit} of ${num(st.stuckAnchor)}: stuck sensor?`);
    }
  }

  private trends(st: PointState, ts: number): void {
    const p = st.point;
    const rate = p.rules.rate;
    if (rate !== null) {
      const trend = st.slope!.trend(rate.windowS * 1000);
      const perMin = trend ? trend.slope * 60_000 : 0;
      const factor = st.flags & RATE ? 0.8 : 1;
      const rising = rate.risePerMin !== null && perMin >= rate.risePerMin * factor;
      const falling = rate.fallPerMin !== null && -perMin >= rate.fallPerMin * factor;
      const on = trend !== null && (rising || falling);
      if (on && !(st.flags & RATE)) {
        const limit = rising ? rate.risePerMin : rate.fallPerMin!;
        this.raiseFlag(st, RATE, 'rate_of_change', ts, perMin, `${p.name}: ${rising ? 'rising' : 'falling'} ${num(Math.abs(perMin))} ${p.unit}/min over ${rate.windowS} s (limit ${num(limit)} ${p.unit}/min)`, limit);
      } else if (!on && st.flags & RATE) {
        this.clearFlag(st, RATE, 'rate_of_change', ts, `${p.name}: rate back to ${num(perMin)} ${p.unit}/min`);
      }
    }
    const t = p.rules.trend;
    if (t === null) return;
    const trend = st.slope!.trend(t.windowS * 1000);
    const perMin = trend ? trend.slope * 60_000 : 0;
    let level: LimitLevel | null = null;
    let reached = false;
    if (trend !== null && trend.slope > 0) {
      level = p.limits.hh !== null ? 'HH' : p.limits.h !== null ? 'H' : null;
      reached = level !== null && rankOf(st.high.level) >= rankOf(level);
    } else if (trend !== null && trend.slope < 0) {
      level = p.limits.ll !== null ? 'LL' : p.limits.l !== null ? 'L' : null;
      reached = level !== null && rankOf(st.low.level) >= rankOf(level);
    }
    const active = (st.flags & TREND) !== 0;
    if (level === null || reached) {
      if (active) this.clearFlag(st, TREND, 'trend_to_limit', ts, reached ? `${p.name}: superseded by the ${level} alarm` : `${p.name}: no longer heading for a limit`);
      return;
    }
    const limit = limitOf(level, p.limits);
    const etaMs = (limit - trend!.fitted) / trend!.slope;
    const horizonMs = t.horizonS * 1000 * (active ? 1.2 : 1);
    if (!active && etaMs <= horizonMs) {
      this.raiseFlag(st, TREND, 'trend_to_limit', ts, st.value, `${p.name}: ${trend!.slope > 0 ? 'rising' : 'falling'} ${num(Math.abs(perMin))} ${p.unit}/min, reaches ${level} ${num(limit)} ${p.unit} in about ${Math.max(0, Math.round(etaMs / 60_000))} min`, limit);
    } else if (active && etaMs > horizonMs) {
      this.clearFlag(st, TREND, 'trend_to_limit', ts, `${p.name}: ${level} no longer within ${t.horizonS / 60} min at the current trend`);
    }
  }

  private vote(votes: readonly VoteState[], p: Point, level: HighLevel, ts: number): void {
    for (const v of votes) {
      const g = v.group;
      if (level !== null && rankOf(level) >= rankOf(g.level)) v.tripped.add(p);
      else v.tripped.delete(p);
      const active = this.active.has(v.key);
      const on = v.tripped.size >= g.k;
      if (on === active) continue;
      const o: Originator = { kind: 'area', enterpriseCode: g.enterpriseCode, code: g.code, hazardSourceCode: g.hazardSourceCode, gatewayCode: null };
      const who = [...v.tripped].map((t) => t.code).join(', ');
      if (on) this.active.set(v.key, 'ACTIVE');
      else this.active.delete(v.key);
      this.sink(
        change({
          originator: o,
          condition: 'vote',
          from: on ? null : 'ACTIVE',
          to: on ? 'ACTIVE' : null,
          severity: g.severity,
          value: v.tripped.size,
          threshold: g.k,
          ts,
          message: on
            ? `${g.name}: ${v.tripped.size} of ${g.points.length} detectors at ${g.level} or above (${who}); ${g.k} of ${g.points.length} voting`
            : `${g.name}: ${v.tripped.size} of ${g.points.length} detectors at ${g.level} or above, below ${g.k}`,
        }),
      );
    }
  }

  private evaluateComposites(st: PointState, ts: number): void {
    const list = this.compositesByPoint.get(st.point);
    if (!list) return;
    for (const cs of list) {
      const holds = compositeHolds(cs.rule, this.states);
      const active = this.active.has(cs.key);
      const rule = cs.rule;
      if (!holds) {
        cs.pendingSince = null;
        if (active) {
          this.active.delete(cs.key);
          this.sink(change({ originator: compositeOriginator(rule), condition: 'composite', name: rule.name, from: 'ACTIVE', to: null, severity: rule.severity, ts, message: `${rule.message}: no longer` }));
        }
        continue;
      }
      if (active) continue;
      cs.pendingSince ??= ts;
      if (ts - cs.pendingSince < rule.onDelayS * 1000) continue;
      cs.pendingSince = null;
      this.active.set(cs.key, 'ACTIVE');
      this.sink(change({ originator: compositeOriginator(rule), condition: 'composite', name: rule.name, from: null, to: 'ACTIVE', severity: rule.severity, ts, message: rule.message }));
    }
  }

  private gatewaySeen(gs: GatewayState, at: number, ts: number): void {
    gs.lastArrival = at;
    if (gs.offline === null) return;
    const o = gatewayOriginator(gs.gateway);
    gs.offline = null;
    const key = conditionKey(o, 'gateway_offline', null);
    if (!this.active.delete(key)) return;
    this.sink(change({ originator: o, condition: 'gateway_offline', from: 'ACTIVE', to: null, severity: 'major', ts, message: `gateway ${gs.gateway.code} online again` }));
  }

  private setGatewayOffline(gs: GatewayState, why: 'status' | 'silence', ts: number, message: string): void {
    const o = gatewayOriginator(gs.gateway);
    const key = conditionKey(o, 'gateway_offline', null);
    const was = gs.offline;
    gs.offline = why;
    if (was !== null && this.active.has(key)) return;
    this.active.set(key, 'ACTIVE');
    this.sink(change({ originator: o, condition: 'gateway_offline', from: null, to: 'ACTIVE', severity: 'major', ts, message: `gateway ${gs.gateway.code}: ${message}` }));
  }

  private raiseFlag(st: PointState, flag: number, condition: ConditionType, ts: number, value: number | null, message: string, threshold: number | null = null): void {
    st.flags |= flag;
    const p = st.point;
    this.sink(change({ originator: st.originator, condition, from: null, to: 'ACTIVE', severity: FLAG_SEVERITY[condition] ?? 'minor', value, threshold, unit: p.unit, ts, message }));
  }

  private clearFlag(st: PointState, flag: number, condition: ConditionType, ts: number, message: string): void {
    st.flags &= ~flag;
    const p = st.point;
    this.sink(change({ originator: st.originator, condition, from: 'ACTIVE', to: null, severity: FLAG_SEVERITY[condition] ?? 'minor', value: Number.isNaN(st.value) ? null : st.value, unit: p.unit, ts, message }));
  }
}

const POINT_FLAG: Partial<Record<ConditionType, number>> = {
  bad_quality: BAD_QUALITY,
  out_of_range: OUT_OF_RANGE,
  sensor_stuck: STUCK,
  no_data: NO_DATA,
  rate_of_change: RATE,
  trend_to_limit: TREND,
};

const FLAG_SEVERITY: Partial<Record<ConditionType, 'minor' | 'warning'>> = {
  rate_of_change: 'warning',
  trend_to_limit: 'warning',
};

function isOrdered(batch: ReadingBatch): boolean {
  for (let i = 1; i < batch.length; i++) if (batch[i]!.ts < batch[i - 1]!.ts) return false;
  return true;
}

function gatewayOriginator(g: Gateway): Originator {
  return { kind: 'gateway', enterpriseCode: g.enterpriseCode, code: g.code, hazardSourceCode: null, gatewayCode: g.code };
}

export function compositeOriginator(rule: CompositeRule): Originator {
  return { kind: 'hazard_source', enterpriseCode: rule.enterpriseCode, code: rule.hazardSourceCode, hazardSourceCode: rule.hazardSourceCode, gatewayCode: null };
}

