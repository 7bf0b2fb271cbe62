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
import { boundedByArrival } from './arrival.js';
import { LateExcursion, LateRun } from './late-run.js';
import { highLevel, limitOf, lowLevel, rankOf, type HighLevel } from './limit.rule.js';
import { BAD_QUALITY, EVALUATION_ERROR, NO_DATA, OUT_OF_RANGE, PointState, RATE, STUCK, TREND, excursionGapMs, noteSpan, slopeWindowMs, spanAt, type LateSpan } from './point-state.js';
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
  /** A gateway clock further than this from the server's (ahead, or behind beyond a reporting period) is skewed. */
  readonly clockSkewToleranceMs: number;
  /** A gateway behind by more than the tolerance for this long (server clock) raises clock_skew (a replayed buffer is briefly behind too). */
  readonly clockSkewConfirmMs: number;
}

/** The name that keys an excursion found in late readings apart from the point's live limit alarm. */
export const LATE_EXCURSION = 'late';

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  lateWindowMs: 86_400_000,
  gatewaySilencePeriods: 3,
  chatter: ISA_CHATTER,
  flood: ISA_FLOOD,
  powerGraceMs: 60_000,
  clockSkewToleranceMs: 60_000,
  clockSkewConfirmMs: 300_000,
};

export type Emit = (c: ConditionChange) => void;

class GatewayState {
  offline: 'status' | 'silence' | null = null;
  /** Server time since which every message was outside the clock tolerance; null while within it. */
  skewSince: number | null = null;
  /** When its current or last outage began, and when it came back from it (server time, monotonic). */
  offlineAt: number | null = null;
  backAt: number | null = null;
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
  /** Event time and server time since which the rule has held, waiting for its on-delay. */
  pendingSince: number | null = null;
  pendingArrival = 0;
  constructor(
    readonly rule: CompositeRule,
    readonly key: string,
  ) {}
}

/** Where the rule core failed, for the caller to log and dead-letter; the stream goes on. */
export interface EngineFault {
  readonly error: unknown;
  /** `reading` (one reading's evaluation), `tick` (a clock check) or `gateway` (a status message). */
  readonly during: 'reading' | 'tick' | 'gateway';
  readonly reading?: Reading;
}

export interface EngineStats {
  /** Readings older than their point's newest, within the late window: checked for a missed excursion only. */
  late: number;
  /** Older than the late window: stored, not evaluated. */
  tooLate: number;
  /** Same timestamp as the point's newest (a redelivery): ignored. */
  duplicate: number;
  /** Points whose clock was reset after their readings kept arriving older than their newest (a clock set back). */
  clockResets: number;
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
  readonly stats: EngineStats = { late: 0, tooLate: 0, duplicate: 0, clockResets: 0 };
  /** Called with each closed 15-minute power interval. */
  onInterval: (i: PowerInterval) => void = noop;
  /** Called with each exception contained by the engine (the rest of the batch and the clock go on). */
  onFault: (f: EngineFault) => void = noop;
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
  /** Points with an on- or off-delay running, for the clock to confirm. */
  private readonly delayed = new Set<PointState>();
  /** Points whose latest readings all arrived older than their newest (`lateRun`). */
  private readonly lateRuns = new Set<PointState>();
  /** Points that had an active alarm at a restore: `seed` leaves them to live readings. */
  private readonly restoredPoints = new Set<Point>();
  /** Composite rules holding and waiting for their on-delay, for the clock to confirm. */
  private readonly pendingComposites = new Set<CompositeState>();
  private readonly chatter: ChatterGuard;
  private readonly flood: FloodGuard;
  private emitOut: Emit = noop;
  /** Server time of the input being handled (arrival, status or tick), on the engine's monotonic clock. */
  private now = 0;
  /** The monotonic clock: server time plus what backward steps of the server clock have taken away. */
  private clockBack = 0;
  private lastNow = -Infinity;
  private readonly toFlood: Emit = (c) => this.flood.pass(c, this.now, this.emitOut);
  private readonly sink: Emit = (c) => this.chatter.pass(c, this.now, this.toFlood);

  constructor(
    ctx: RuleContext,
    private readonly startedAt: number,
    options: Partial<EngineOptions> = {},
  ) {
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    // The monotonic clock starts at the start: a server clock stepped back before the first input (an NTP step at
    // boot) must not time every silence from a moment in the future.
    this.lastNow = startedAt;
    this.now = startedAt;
    this.chatter = new ChatterGuard(this.options.chatter);
    this.flood = new FloodGuard(this.options.flood);
    this.index(ctx);
  }

  /**
   * Evaluates one batch (one gateway message). Readings are taken in event-time order; a reading's time is bounded
   * by its arrival (`clockAheadMs`: how far ahead of arrival the sender stamped it before it was clamped).
   */
  readings(batch: ReadingBatch, arrivedAt: number, emit: Emit, clockAheadMs = 0): void {
    this.emitOut = emit;
    const at = this.monotonic(arrivedAt);
    const lead = leadOf(batch, arrivedAt);
    const bounded = lead > 0 ? boundedByArrival(batch, arrivedAt) : batch;
    const ordered = isOrdered(bounded) ? bounded : [...bounded].sort((a, b) => a.ts - b.ts);
    let gw: GatewayState | undefined;
    let newest = -Infinity;
    const ahead = Math.max(clockAheadMs, lead);
    for (let i = 0; i < ordered.length; i++) {
      const r = ordered[i]!;
      if (r.ts > newest) newest = r.ts;
      try {
        const p = r.point;
        let st = this.states.get(p);
        if (st === undefined) st = this.stateOf(p, at);
        const duplicate = r.ts === st.lastTs && sameReading(st, r);
        // A redelivered reading is no new data: a gateway resending its last sample must not keep a dead point alive.
        if (!duplicate) st.lastArrival = at;
        if (gw === undefined || gw.gateway.code !== p.gatewayCode || gw.gateway.enterpriseCode !== p.enterpriseCode) {
          if (gw) this.checkClock(gw, arrivedAt, at, ahead, newest);
          gw = this.gateways.get(`${p.enterpriseCode}/${p.gatewayCode}`);
          if (gw) this.gatewaySeen(gw, at, r.ts);
        }
        if (r.ts < st.lastTs || duplicate) this.late(st, r, at);
        else this.inOrder(st, r, at);
      } catch (error) {
        this.contain({ error, during: 'reading', reading: r });
      }
    }
    const last = gw;
    if (last) this.contained('reading', () => this.checkClock(last, arrivedAt, at, ahead, newest));
  }

  /**
   * Durations (delays, silences, chatter and flood windows, clock resets) are measured on a clock that never runs
   * backwards: a step back of the server clock (an NTP correction) would otherwise stop every timer for as long.
   * A step forward passes through (timers fire early: alarms come sooner, never later).
   */
  private monotonic(now: number): number {
    let t = now + this.clockBack;
    if (t < this.lastNow) {
      this.clockBack += this.lastNow - t;
      t = this.lastNow;
    }
    this.lastNow = t;
    this.now = t;
    return t;
  }

  private inOrder(st: PointState, r: Reading, arrivedAt: number): void {
    if (st.lateRun !== null) this.endLateRun(st);
    this.evaluate(st, r, arrivedAt);
    if (st.flags & EVALUATION_ERROR) this.clearFlag(st, EVALUATION_ERROR, 'evaluation_error', r.ts, `${st.point.name}: rules evaluated again`);
  }

  /**
   * An exception while evaluating one reading: the point gets an `evaluation_error` alarm (its other alarms may be
   * wrong until a reading evaluates cleanly), the caller hears of it, and the rest of the batch goes on.
   */
  private contain(f: EngineFault): void {
    this.onFault(f);
    const r = f.reading;
    if (!r) return;
    try {
      const st = this.states.get(r.point);
      if (st && !(st.flags & EVALUATION_ERROR)) {
        const why = f.error instanceof Error ? f.error.message : String(f.error);
        this.raiseFlag(st, EVALUATION_ERROR, 'evaluation_error', r.ts, Number.isFinite(r.value) ? r.value : null, `${st.point.name}: the rules failed on a reading (${why}); its alarms may be wrong until it evaluates again`);
      }
    } catch (error) {
      this.onFault({ error, during: f.during });
    }
  }

  private contained(during: EngineFault['during'], work: () => void): void {
    try {
      work();
    } catch (error) {
      this.onFault({ error, during });
    }
  }

  /** A gateway's status message (online / offline, e.g. its MQTT last will). */
  gatewayStatus(enterpriseCode: string, gatewayCode: string, state: 'online' | 'offline', at: number, emit: Emit): void {
    this.emitOut = emit;
    const now = this.monotonic(at);
    const gs = this.gateways.get(`${enterpriseCode}/${gatewayCode}`);
    if (!gs) return;
    gs.lastArrival = now;
    this.contained('gateway', () => {
      if (state === 'online') this.gatewaySeen(gs, now, at);
      else if (gs.offline !== 'status') this.setGatewayOffline(gs, 'status', at, 'gateway reported offline on its status topic');
    });
  }

  /**
   * The clock: on- and off-delays of points that went quiet, clocks set back, data interruption, gateway silence,
   * chatter release, flood end, power intervals. Each check is contained: one that throws does not stop the others.
   */
  tick(serverNow: number, emit: Emit): void {
    this.emitOut = emit;
    const now = this.monotonic(serverNow);
    this.contained('tick', () => this.confirmDelays(now));
    this.contained('tick', () => this.resetSetBackClocks(now));
    this.contained('tick', () => this.silences(now));
    this.contained('tick', () => {
      for (const profile of this.power.values()) profile.closeIfDue(now, this.options.powerGraceMs, this.sink, this.onInterval);
    });
    this.contained('tick', () => this.chatter.tick(now, this.toFlood));
    this.contained('tick', () => this.flood.tick(now, emit));
  }

  private confirmDelays(now: number): void {
    for (const st of [...this.delayed]) {
      this.contained('tick', () => {
        const p = st.point;
        const onMs = p.onDelayS * 1000;
        const offMs = p.offDelayS * 1000;
        // The event time the confirmation stands for: the newest reading's, moved on by the server time since it came.
        const ts = st.lastTs + (now - st.lastArrival);
        const prevHigh = st.high.level;
        const high = st.high.confirm(now, onMs, offMs);
        if (high) this.highChanged(st, prevHigh, ts);
        const prevLow = st.low.level;
        const low = st.low.confirm(now, onMs, offMs);
        if (low) this.limitChange(st, 'limit_low', prevLow, st.low.level, st.value, ts);
        if (!st.high.pending && !st.low.pending) this.delayed.delete(st);
        // Composite clauses may test the point's level.
        if (high || low) this.evaluateComposites(st, ts);
      });
    }
    for (const cs of [...this.pendingComposites]) {
      if (now - cs.pendingArrival < cs.rule.onDelayS * 1000 || cs.pendingSince === null) continue;
      if (!compositeHolds(cs.rule, this.states)) {
        cs.pendingSince = null;
        this.pendingComposites.delete(cs);
        continue;
      }
      this.raiseComposite(cs, cs.pendingSince + (now - cs.pendingArrival));
    }
  }

  /**
   * A point whose readings have all arrived older than its newest for two sample periods (at most a minute, server
   * clock), stamped about as fast as time passes, has had its clock set back (a gateway's NTP correction, a server
   * clock step): its latest reading is taken as current and its clock restarts from there, so it is never blind for
   * longer than that. A replayed buffer (stamped far faster than it arrives) is not taken for one.
   */
  private resetSetBackClocks(now: number): void {
    for (const st of [...this.lateRuns]) {
      const run = st.lateRun;
      if (run === null || !run.settledAsSetBack(now, clockResetMs(st.point))) continue;
      this.endLateRun(st);
      this.contained('tick', () => this.resetClock(st, run.last, now));
    }
  }

  /** Gateway silence and data interruption, each gateway and point checked on its own (one that throws is reported). */
  private silences(now: number): void {
    for (const gs of this.gateways.values()) {
      try {
        this.gatewaySilence(gs, now);
      } catch (error) {
        this.onFault({ error, during: 'tick' });
      }
    }
    for (const p of this.ctx.points) {
      try {
        this.dataInterruption(p, now);
      } catch (error) {
        this.onFault({ error, during: 'tick' });
      }
    }
  }

  private gatewaySilence(gs: GatewayState, now: number): void {
    if (gs.offline !== null) return;
    const silentMs = now - gs.lastArrival;
    const limitMs = this.options.gatewaySilencePeriods * gs.gateway.reportingPeriodS * 1000;
    if (silentMs > limitMs) {
      this.setGatewayOffline(gs, 'silence', now, `no message from the gateway for ${Math.round(silentMs / 1000)} s (${this.options.gatewaySilencePeriods} reporting periods of ${gs.gateway.reportingPeriodS} s)`);
    }
  }

  private dataInterruption(p: Point, now: number): void {
    const periods = p.rules.noDataPeriods;
    if (periods <= 0) return;
    const st = this.states.get(p);
    const silentMs = now - (st?.lastArrival ?? this.startedAt);
    const limitMs = periods * p.samplePeriodS * 1000;
    if (silentMs <= limitMs || (st !== undefined && (st.flags & NO_DATA) !== 0)) return;
    const gs = this.gateways.get(`${p.enterpriseCode}/${p.gatewayCode}`);
    // Suppressed by design while the point's gateway is offline: one gateway alarm, not one per point. A gateway
    // back from an outage sends `online` before its first telemetry: its points get their periods again first,
    // unless a point was already silent past them when the outage began (a flapping link must not hide it).
    if (gs?.offline) return;
    if (gs?.backAt != null && now - gs.backAt <= limitMs && (gs.offlineAt ?? now) - (st?.lastArrival ?? this.startedAt) <= limitMs) return;
    const s = st ?? this.stateOf(p, this.startedAt);
    this.raiseFlag(s, NO_DATA, 'no_data', now, null, `${p.name}: no reading for ${Math.round(silentMs / 1000)} s (${periods} sample periods of ${p.samplePeriodS} s)`);
    this.evaluateComposites(s, now);
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
        if (k.kind === 'gateway' && k.condition === 'gateway_offline') {
          const gs = this.gateways.get(`${k.enterpriseCode}/${k.code}`);
          if (gs) {
            gs.offline = 'status';
            // Its points were reporting until the restart as far as this run knows: they get the grace on its return.
            gs.offlineAt ??= this.startedAt;
          }
        }
        continue;
      }
      // A late excursion's alarm (latched by chatter protection) says nothing of the point's present state.
      if (k.name === LATE_EXCURSION) continue;
      const p = this.findPoint(k.enterpriseCode, k.code);
      if (!p) continue;
      const st = this.states.get(p) ?? this.stateOf(p, this.startedAt);
      this.restoredPoints.add(p);
      if (k.condition === 'limit_high' && (level === 'H' || level === 'HH')) st.high.level = level;
      else if (k.condition === 'limit_low' && (level === 'L' || level === 'LL')) st.low.level = level;
      else st.flags |= POINT_FLAG[k.condition] ?? 0;
    }
    this.pointIndex = null;
    this.retally();
  }

  /**
   * After a restore: the newest stored reading of each point, evaluated as the point's present value so that what
   * only the rule core knew before the restart comes back — an on-delay that was running (it restarts now), the last
   * value a composite clause reads. Gateways and clocks are left alone: these readings are not news from a gateway.
   * A point with an active alarm is left to its live readings: a stored value (newest by its own time, which a
   * clock set back or an outage buffer can make stale) must never clear or lower it.
   */
  seed(readings: ReadingBatch, now: number, emit: Emit): void {
    this.emitOut = emit;
    const at = this.monotonic(now);
    for (const r of [...readings].sort((a, b) => a.ts - b.ts)) {
      if (r.ts > now) continue;
      if (this.restoredPoints.has(r.point)) continue;
      try {
        const st = this.states.get(r.point) ?? this.stateOf(r.point, at);
        if (r.ts > st.lastTs) this.evaluate(st, r, at);
      } catch (error) {
        this.contain({ error, during: 'reading', reading: r });
      }
    }
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
      if (!next) {
        // Removed: nothing of it may still fire (a pending delay, a late run).
        this.delayed.delete(st);
        this.endLateRun(st);
        continue;
      }
      st.moveTo(next);
      this.states.set(next, st);
    }
    // Composite rules are rebuilt from the new registry: the ones still holding start their on-delay again.
    this.pendingComposites.clear();
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
      case 'system':
        return true;
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
      gs.skewSince = prev?.skewSince ?? null;
      gs.offlineAt = prev?.offlineAt ?? null;
      gs.backAt = prev?.backAt ?? null;
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

  private evaluate(st: PointState, r: Reading, arrivedAt: number): void {
    const p = st.point;
    const { ts, value } = r;
    st.lastTs = ts;
    st.lastRaw = value;
    st.lastQuality = r.quality;
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
    if (st.high.step(highLevel(prevHigh, value, p.limits, p.deadband), ts, arrivedAt, onMs, offMs)) this.highChanged(st, prevHigh, ts);
    const prevLow = st.low.level;
    if (st.low.step(lowLevel(prevLow, value, p.limits, p.deadband), ts, arrivedAt, onMs, offMs)) this.limitChange(st, 'limit_low', prevLow, st.low.level, value, ts);
    if (st.high.pending || st.low.pending) this.delayed.add(st);
    // Live excursions are remembered by event time, so that a late copy of their readings is not recorded again.
    if (st.high.level !== null) st.lateHigh = noteSpan(st.lateHigh, rankOf(st.high.level), ts, excursionGapMs(p));
    if (st.low.level !== null) st.lateLow = noteSpan(st.lateLow, rankOf(st.low.level), ts, excursionGapMs(p));

    const stuck = p.rules.stuck;
    if (stuck !== null) this.stuck(st, stuck.periods, stuck.band, value, ts);
    if (st.slope !== null) {
      st.slope.add(ts, value);
      if (p.rules.rate !== null || p.rules.trend !== null) this.trends(st, ts);
    }
    if (this.compositesByPoint.has(p)) this.evaluateComposites(st, ts);
    if (p.type === 'power') this.power.get(p.enterpriseCode)?.add(p, value, ts, this.sink, this.onInterval);
  }

  private highChanged(st: PointState, from: HighLevel, ts: number): void {
    this.limitChange(st, 'limit_high', from, st.high.level, st.value, ts);
    const votes = this.votesByPoint.get(st.point);
    if (votes) this.vote(votes, st.point, st.high.level, ts);
  }

  /**
   * A reading older than its point's newest cannot change the present state, which a newer reading decided.
   * Within the late window it is still checked: an excursion beyond the current level (e.g. in a buffer the
   * gateway replays after a link outage) is recorded as raised and at once returned, so it is not missed. When
   * such readings keep coming with nothing newer for two sample periods, the point's clock was set back: the
   * latest is taken as current (`resetClock`).
   */
  private late(st: PointState, r: Reading, arrivedAt: number): void {
    if (r.ts === st.lastTs) {
      // The same reading again (a redelivery after a reconnect or a restart).
      this.stats.duplicate++;
      return;
    }
    let run = st.lateRun;
    if (run === null) {
      run = st.lateRun = new LateRun(arrivedAt, r);
      this.lateRuns.add(st);
    } else run.last = r;
    if (run.settledAsSetBack(arrivedAt, clockResetMs(st.point))) {
      this.endLateRun(st);
      this.resetClock(st, r, arrivedAt);
      return;
    }
    if (st.lastTs - r.ts > this.options.lateWindowMs) {
      this.stats.tooLate++;
      return;
    }
    this.stats.late++;
    const p = st.point;
    const v = r.value;
    const usable = r.quality === 'good' && Number.isFinite(v) && (p.range === null || (v >= p.range[0] && v <= p.range[1]));
    const high = usable ? highLevel(null, v, p.limits, 0) : null;
    const low = usable ? lowLevel(null, v, p.limits, 0) : null;
    const onMs = p.onDelayS * 1000;
    const at = new Date(r.ts).toISOString();
    const gapMs = excursionGapMs(p);
    // Beyond the present level within the excursion going on now; beyond normal before it (a past excursion to H
    // while a live H stands is an excursion of its own).
    const baseHigh = this.liveSince(st.high.level, st.lateHigh, st.lastTs, gapMs) <= r.ts ? rankOf(st.high.level) : 0;
    const baseLow = this.liveSince(st.low.level, st.lateLow, st.lastTs, gapMs) <= r.ts ? rankOf(st.low.level) : 0;
    if (st.lateSeenHigh.see(rankOf(high) > baseHigh ? rankOf(high) : 0, r.ts, onMs, gapMs)) this.excursion(st, 'limit_high', high!, v, r.ts, at, gapMs);
    if (st.lateSeenLow.see(rankOf(low) > baseLow ? rankOf(low) : 0, r.ts, onMs, gapMs)) this.excursion(st, 'limit_low', low!, v, r.ts, at, gapMs);
  }

  /**
   * Event time since which the point has been at its present level `level` on one side (the start of the live
   * excursion's span, less the gap): -Infinity when that is unknown (a level restored after a restart), +Infinity at
   * normal.
   */
  private liveSince(level: LimitLevel | null, spans: readonly LateSpan[] | null, newestTs: number, gapMs: number): number {
    if (level === null) return Infinity;
    const live = spanAt(spans, newestTs, gapMs);
    return live === undefined ? -Infinity : live.from - gapMs;
  }

  private endLateRun(st: PointState): void {
    st.lateRun = null;
    this.lateRuns.delete(st);
  }

  /** The point's clock restarts at `r`: delays and trends of the old time base are dropped, `r` is evaluated as current. */
  private resetClock(st: PointState, r: Reading, arrivedAt: number): void {
    this.stats.clockResets++;
    st.lastTs = -Infinity;
    st.high.restart();
    st.low.restart();
    st.restartSlope();
    // Event times of the old time base mean nothing in the new one: what late readings showed so far is dropped.
    st.lateSeenHigh = new LateExcursion();
    st.lateSeenLow = new LateExcursion();
    st.lateHigh = null;
    st.lateLow = null;
    this.evaluate(st, r, arrivedAt);
  }

  /**
   * Compares a gateway's clock with the server's on each message: stamped ahead of arrival (clamped) raises
   * `clock_skew` at once; behind by more than the tolerance plus a reporting period for `clockSkewConfirmMs` does
   * too (a buffer replayed after an outage is behind only briefly). A message within the tolerance clears it.
   */
  private checkClock(gs: GatewayState, arrivedAt: number, at: number, aheadMs: number, newestTs: number): void {
    const { clockSkewToleranceMs: tol, clockSkewConfirmMs: confirmMs } = this.options;
    const behindMs = arrivedAt - newestTs;
    const aheadOut = aheadMs > tol;
    const behindOut = behindMs > tol + gs.gateway.reportingPeriodS * 1000;
    const o = gatewayOriginator(gs.gateway);
    const key = conditionKey(o, 'clock_skew', null);
    const active = this.active.has(key);
    if (!aheadOut && !behindOut) {
      gs.skewSince = null;
      if (!active) return;
      this.active.delete(key);
      this.sink(change({ originator: o, condition: 'clock_skew', from: 'ACTIVE', to: null, severity: 'minor', ts: arrivedAt, message: `gateway ${gs.gateway.code}: clock within ${tol / 1000} s of the server again` }));
      return;
    }
    gs.skewSince ??= at;
    if (active || (!aheadOut && at - gs.skewSince < confirmMs)) return;
    this.active.set(key, 'ACTIVE');
    const off = aheadOut ? aheadMs : behindMs;
    const message = aheadOut
      ? `gateway ${gs.gateway.code}: clock ${Math.round(off / 1000)} s ahead of the server; its readings are taken at their arrival time`
      : `gateway ${gs.gateway.code}: clock ${Math.round(off / 1000)} s behind the server for ${Math.round((at - gs.skewSince) / 1000)} s; alarm times show the gateway's clock`;
    this.sink(change({ originator: o, condition: 'clock_skew', from: null, to: 'ACTIVE', severity: 'minor', value: Math.round(off / 1000), unit: 's', threshold: tol / 1000, ts: arrivedAt, message }));
  }

  /**
   * An excursion found in late readings: an alarm of its own (name `late`), raised and at once returned, so that it
   * is acknowledged like any other while the point's live alarm is neither touched nor counted as chattering by it.
   * It is a record, never active: it goes past chatter and flood protection (which hold back live conditions), and
   * one excursion is recorded once however its readings come — newest first, between live readings, delivered
   * twice: a late reading of the same level within two sample periods of the last recorded span only extends it.
   */
  private excursion(st: PointState, condition: 'limit_high' | 'limit_low', peak: LimitLevel, value: number, ts: number, at: string, gapMs: number): void {
    const p = st.point;
    const rank = rankOf(peak);
    const high = condition === 'limit_high';
    const known = spanAt(high ? st.lateHigh : st.lateLow, ts, gapMs);
    // Already known at this level: alarmed live at the time, or recorded from late readings before.
    const seen = known !== undefined && rank <= known.rank;
    const spans = noteSpan(high ? st.lateHigh : st.lateLow, rank, ts, gapMs);
    if (high) st.lateHigh = spans;
    else st.lateLow = spans;
    if (seen) return;
    const limit = limitOf(peak, p.limits);
    const base = { originator: st.originator, condition, name: LATE_EXCURSION, value, unit: p.unit, threshold: limit, ts } as const;
    this.emitOut(change({ ...base, from: null, to: peak, severity: severityOfLimit(peak), message: `${p.name}: late reading of ${at} shows ${num(value)} ${p.unit} beyond ${peak} ${num(limit)}: momentary excursion` }));
    this.emitOut(change({ ...base, from: peak, to: null, severity: severityOfLimit(peak), message: `${p.name}: the excursion of ${at} had already passed when it arrived` }));
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
        this.pendingComposites.delete(cs);
        if (active) {
          this.active.delete(cs.key);
          this.sink(change({ originator: compositeOriginator(rule), condition: 'composite', name: rule.name, from: 'ACTIVE', to: null, severity: rule.severity, ts, message: `${rule.message}: no longer` }));
        }
        continue;
      }
      if (active) continue;
      if (cs.pendingSince === null) {
        cs.pendingSince = ts;
        cs.pendingArrival = this.now;
      }
      const delayMs = rule.onDelayS * 1000;
      if (ts - cs.pendingSince < delayMs && this.now - cs.pendingArrival < delayMs) {
        this.pendingComposites.add(cs);
        continue;
      }
      this.raiseComposite(cs, ts);
    }
  }

  private raiseComposite(cs: CompositeState, ts: number): void {
    const rule = cs.rule;
    cs.pendingSince = null;
    this.pendingComposites.delete(cs);
    this.active.set(cs.key, 'ACTIVE');
    this.sink(change({ originator: compositeOriginator(rule), condition: 'composite', name: rule.name, from: null, to: 'ACTIVE', severity: rule.severity, ts, message: rule.message }));
  }

  private gatewaySeen(gs: GatewayState, at: number, ts: number): void {
    gs.lastArrival = at;
    if (gs.offline === null) return;
    const o = gatewayOriginator(gs.gateway);
    gs.offline = null;
    gs.backAt = at;
    const key = conditionKey(o, 'gateway_offline', null);
    if (!this.active.delete(key)) return;
    this.sink(change({ originator: o, condition: 'gateway_offline', from: 'ACTIVE', to: null, severity: 'major', ts, message: `gateway ${gs.gateway.code} online again` }));
  }

  private setGatewayOffline(gs: GatewayState, why: 'status' | 'silence', ts: number, message: string): void {
    const o = gatewayOriginator(gs.gateway);
    const key = conditionKey(o, 'gateway_offline', null);
    const was = gs.offline;
    gs.offline = why;
    if (was === null) gs.offlineAt = this.now;
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
  evaluation_error: EVALUATION_ERROR,
  bad_quality: BAD_QUALITY,
  out_of_range: OUT_OF_RANGE,
  sensor_stuck: STUCK,
  no_data: NO_DATA,
  rate_of_change: RATE,
  trend_to_limit: TREND,
};

const FLAG_SEVERITY: Partial<Record<ConditionType, 'major' | 'minor' | 'warning'>> = {
  evaluation_error: 'major',
  rate_of_change: 'warning',
  trend_to_limit: 'warning',
};

/** How long a point's readings may all arrive older than its newest before its clock is taken as set back. */
function clockResetMs(p: Point): number {
  return Math.min(Math.max(2 * p.samplePeriodS * 1000, 1000), 60_000);
}

/** How far the latest reading of a batch is stamped ahead of its arrival (0 when none is): the sender's clock lead. */
function leadOf(batch: ReadingBatch, arrivedAt: number): number {
  let lead = 0;
  for (let i = 0; i < batch.length; i++) if (batch[i]!.ts - arrivedAt > lead) lead = batch[i]!.ts - arrivedAt;
  return lead;
}

/** Whether `r` repeats the newest reading evaluated for its point (same time, value and quality). */
function sameReading(st: PointState, r: Reading): boolean {
  return Object.is(st.lastRaw, r.value) && st.lastQuality === r.quality;
}

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

