import { describe, expect, it } from 'vitest';
import { ChainWatchdog } from './chain-watchdog.js';

describe('chain watchdog', () => {
  const setup = () => {
    const clock = { now: 1_000_000 };
    const sent: string[] = [];
    const verdicts: [boolean, string][] = [];
    const w = new ChainWatchdog({ intervalMs: 1000, publish: (p) => sent.push(p), verdict: (_hop, active, message) => verdicts.push([active, message]), now: () => clock.now });
    return { clock, sent, verdicts, w };
  };

  it('raises after three intervals without a heartbeat back, and clears on the next one back', () => {
    const { clock, sent, verdicts, w } = setup();
    for (let i = 0; i < 4; i++) {
      w.tick();
      clock.now += 1000;
    }
    expect(verdicts.map(([a]) => a)).toEqual([false, false, false, true]);
    expect(verdicts.at(-1)![1]).toMatch(/^monitoring chain stalled at the broker: no heartbeat back for 3 s/);
    expect(w.health()).toMatchObject({ ok: false, outstanding: 4 });
    w.arrived(Buffer.from(sent.at(-1)!));
    expect(verdicts.at(-1)).toEqual([false, 'monitoring chain back: heartbeat through the broker in 1000 ms']);
    expect(w.health()).toMatchObject({ ok: true, outstanding: 0, roundTripMs: 1000, ageMs: 0 });
  });

  it('says "not stalled" every round, so that an alarm left active by a previous run clears', () => {
    const { verdicts, w } = setup();
    w.tick();
    expect(verdicts).toEqual([[false, 'monitoring chain back: heartbeats through the broker in ? ms']]);
  });

  it("ignores another monitor's heartbeats and garbage", () => {
    const { clock, verdicts, w } = setup();
    for (let i = 0; i < 4; i++) {
      w.tick();
      clock.now += 1000;
    }
    w.arrived(Buffer.from(JSON.stringify({ nonce: 'someone-else', seq: 99, sentAt: clock.now })));
    w.arrived(Buffer.from('not json'));
    expect(verdicts.at(-1)![0]).toBe(true);
    expect(w.health().ok).toBe(false);
  });
});
