import type { ConditionChange, ConditionLevel } from '#libs/contracts/index.js';
import { TimeWindow } from './time-window.js';

export interface ChatterSettings {
  /** More than this many transitions within `windowMs` is chattering (ISA-18.2: > 5 in 5 min). */
  readonly maxTransitions: number;
  readonly windowMs: number;
}

export const ISA_CHATTER: ChatterSettings = { maxTransitions: 5, windowMs: 300_000 };

class ChatterState {
  readonly transitions: TimeWindow;
  chattering = false;
  /** The level last passed on, and the latest change held back while chattering. */
  shown: ConditionLevel | null = null;
  held: ConditionChange | null = null;
  lastTs = 0;
  constructor(settings: ChatterSettings) {
    this.transitions = new TimeWindow(settings.windowMs, settings.maxTransitions + 1);
  }
}

/**
 * Chatter protection. A condition that changes more than 5 times in 5 minutes is marked chattering and latched:
 * its alarm stays active (a clear that would start the chatter is turned into a flag update), further
 * transitions are held back, and once it has been quiet for 5 minutes its latest state is passed on. Nothing is
 * lost: the final state always goes out.
 */
export class ChatterGuard {
  private readonly states = new Map<string, ChatterState>();

  constructor(private readonly settings: ChatterSettings = ISA_CHATTER) {}

  pass(c: ConditionChange, emit: (c: ConditionChange) => void): void {
    if (c.from === c.to) {
      emit(c);
      return;
    }
    let st = this.states.get(c.key);
    if (!st) {
      st = new ChatterState(this.settings);
      this.states.set(c.key, st);
    }
    st.lastTs = c.ts;
    st.transitions.push(c.ts);
    const transitions = st.transitions.expire(c.ts);
    if (st.chattering) {
      st.held = c;
      return;
    }
    if (transitions > this.settings.maxTransitions) {
      st.chattering = true;
      st.held = c;
      const message = `chattering: ${transitions} transitions in ${this.settings.windowMs / 60_000} min; held until quiet for as long (${c.message})`;
      if (c.to !== null) {
        st.shown = c.to;
        emit({ ...c, chattering: true, message });
      } else {
        st.shown = c.from;
        emit({ ...c, to: c.from, chattering: true, message });
      }
      return;
    }
    st.shown = c.to;
    emit(c);
  }

  /** Releases conditions quiet for a whole window, and forgets ones with no transition left in it. */
  tick(now: number, emit: (c: ConditionChange) => void): void {
    for (const [key, st] of this.states) {
      if (now - st.lastTs < this.settings.windowMs) continue;
      this.states.delete(key);
      if (!st.chattering || !st.held) continue;
      const held = st.held;
      const message = `chattering over: ${held.message}`;
      if (held.to !== null || st.shown !== null) emit({ ...held, from: st.shown, chattering: false, message });
    }
  }

  /** Keys currently chattering (for the API and metrics). */
  chatteringKeys(): string[] {
    return [...this.states].filter(([, s]) => s.chattering).map(([k]) => k);
  }
}
