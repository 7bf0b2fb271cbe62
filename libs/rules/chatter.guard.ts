import type { ConditionChange, ConditionLevel } from '#libs/contracts/index.js';
import { rankOf } from './limit.rule.js';
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
  /** Server time of the latest transition. */
  lastAt = 0;
  constructor(settings: ChatterSettings) {
    this.transitions = new TimeWindow(settings.windowMs, settings.maxTransitions + 1);
  }
}

/** Rank of a level for chatter: a rise is never held (ACTIVE ranks as a first alarm). */
function rank(level: ConditionLevel | null): number {
  return level === 'ACTIVE' ? 1 : rankOf(level);
}

/**
 * Chatter protection. A condition that changes more than 5 times in 5 minutes (server clock) is marked chattering
 * and latched: its alarm stays active (a clear that would start the chatter is turned into a flag update), and
 * repeated clears and returns to a level already shown are held back; once it has been quiet for 5 minutes its
 * latest state is passed on. A rise above the level shown (H → HH) is never held: it goes out at once, still
 * marked chattering. Nothing is lost: the final state always goes out.
 */
export class ChatterGuard {
  private readonly states = new Map<string, ChatterState>();

  constructor(private readonly settings: ChatterSettings = ISA_CHATTER) {}

  /** `now` is the server time of the change: windows of people's attention run on the server clock. */
  pass(c: ConditionChange, now: number, emit: (c: ConditionChange) => void): void {
    if (c.from === c.to) {
      emit(c);
      return;
    }
    let st = this.states.get(c.key);
    if (!st) {
      st = new ChatterState(this.settings);
      this.states.set(c.key, st);
    }
    st.lastAt = now;
    st.transitions.push(now);
    const transitions = st.transitions.expire(now);
    if (st.chattering) {
      st.held = c;
      if (rank(c.to) > rank(st.shown)) {
        emit({ ...c, from: st.shown, chattering: true, message: `chattering, rise passed at once: ${c.message}` });
        st.shown = c.to;
      }
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
      if (now - st.lastAt < this.settings.windowMs) continue;
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
