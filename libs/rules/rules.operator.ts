import { asyncScheduler, interval, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { ConditionChange, GatewayState, ReadingBatch } from '#libs/contracts/index.js';
import type { RuleEngine } from './rule-engine.js';

export type RuleInput =
  | { readonly kind: 'readings'; readonly batch: ReadingBatch; readonly clockAheadMs?: number }
  | { readonly kind: 'gateway'; readonly enterpriseCode: string; readonly gatewayCode: string; readonly state: GatewayState };

export interface EvaluateOptions {
  /** Time source for arrivals and the clock; a TestScheduler in tests. */
  readonly scheduler?: SchedulerLike;
  /** How often the clock checks silences, chatter, floods and power intervals. */
  readonly tickMs?: number;
}

/** The rule core as an operator: inputs (reading batches, gateway status) in, condition changes out, synchronously. */
export function evaluateRules(engine: RuleEngine, options: EvaluateOptions = {}): OperatorFunction<RuleInput, ConditionChange> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const tickMs = options.tickMs ?? 5000;
  return (source) =>
    new Observable<ConditionChange>((subscriber) => {
      const emit = (c: ConditionChange): void => subscriber.next(c);
      const ticks = interval(tickMs, scheduler).subscribe(() => engine.tick(scheduler.now(), emit));
      const inputs = source.subscribe({
        next(input) {
          if (input.kind === 'readings') engine.readings(input.batch, scheduler.now(), emit, input.clockAheadMs);
          else engine.gatewayStatus(input.enterpriseCode, input.gatewayCode, input.state, scheduler.now(), emit);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        ticks.unsubscribe();
        inputs.unsubscribe();
      };
    });
}
