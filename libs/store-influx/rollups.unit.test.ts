import { describe, expect, it } from 'vitest';
import { Rollups, type RollupSeries } from './rollups.js';

const SERIES: RollupSeries = { key: 'reading,enterprise=E1,hazard_source=TF-1,point=T1 ', rollup: null };
const OTHER: RollupSeries = { key: 'reading,enterprise=E1,hazard_source=TF-1,point=T2 ', rollup: null };
const T0 = Date.parse('2026-11-30T08:00:00Z');
const MIN = 60_000;

/** Rollups on a clock the test moves, with what they wrote. */
function rig(): { rollups: Rollups; lines: string[]; at: (ms: number) => void; sweep: () => void } {
  let now = T0;
  const lines: string[] = [];
  const rollups = new Rollups((l) => lines.push(...l), { now: () => now, graceMs: MIN });
  return { rollups, lines, at: (ms) => (now = ms), sweep: () => rollups.closeDue() };
}

describe('Rollups', () => {
  it('writes min, max, mean, last and count of each 1-minute and 15-minute window once the clock is a grace past its end', () => {
    const { rollups, lines, at, sweep } = rig();
    rollups.add(SERIES, T0 + 1000, 20);
    rollups.add(SERIES, T0 + 20_000, 17);
    rollups.add(SERIES, T0 + 30_000, 26);
    rollups.add(SERIES, T0 + MIN + 5000, 30);
    at(T0 + 2 * MIN - 1);
    sweep();
    expect(lines).toEqual([]);
    at(T0 + 2 * MIN);
    sweep();
    expect(lines).toEqual([`reading_1m,enterprise=E1,hazard_source=TF-1,point=T1 min=17.0,max=26.0,mean=21.0,last=26.0,count=3i ${T0}`]);
    at(T0 + 16 * MIN);
    sweep();
    expect(lines.slice(1)).toEqual([
      `reading_1m,enterprise=E1,hazard_source=TF-1,point=T1 min=30.0,max=30.0,mean=30.0,last=30.0,count=1i ${T0 + MIN}`,
      `reading_15m,enterprise=E1,hazard_source=TF-1,point=T1 min=17.0,max=30.0,mean=23.25,last=30.0,count=4i ${T0}`,
    ]);
  });

  it('counts a reading once: a repeat (QoS 1 delivers at least once) or an older reading is left out and counted as late', () => {
    const { rollups, lines, at, sweep } = rig();
    rollups.add(SERIES, T0 + 1000, 10);
    rollups.add(SERIES, T0 + 2000, 50);
    rollups.add(SERIES, T0 + 1000, 10); // the same message again after a reconnection
    rollups.add(SERIES, T0 + 2000, 50);
    rollups.add(SERIES, T0 + 1500, 99); // out of order
    at(T0 + 2 * MIN);
    sweep();
    sweep();
    expect(lines.filter((l) => l.startsWith('reading_1m'))).toEqual([`reading_1m,enterprise=E1,hazard_source=TF-1,point=T1 min=10.0,max=50.0,mean=30.0,last=50.0,count=2i ${T0}`]);
    expect(rollups.late).toBe(3);
  });

  it('never writes a window twice: a reading of a window already written is counted as late instead', () => {
    const { rollups, lines, at, sweep } = rig();
    rollups.add(SERIES, T0 + 1000, 20);
    at(T0 + 2 * MIN);
    sweep();
    sweep();
    rollups.add(SERIES, T0 + 2000, 99);
    rollups.add(SERIES, T0 + 2 * MIN + 1, 21);
    at(T0 + 4 * MIN);
    sweep();
    sweep();
    expect(lines.filter((l) => l.startsWith('reading_1m')).map((l) => l.split(' ')[2])).toEqual([String(T0), String(T0 + 2 * MIN)]);
    expect(rollups.late).toBe(1);
  });

  it('fills the old windows of a gateway replaying its buffer and writes each once the replay has moved past it', () => {
    const { rollups, lines, at, sweep } = rig();
    at(T0 + 60 * MIN);
    for (let k = 0; k < 30; k++) rollups.add(SERIES, T0 + k * 10_000, k); // 5 minutes an hour ago, in order
    sweep(); // the window the replay is in took readings since the last sweep: it stays open
    expect(lines.filter((l) => l.startsWith('reading_1m')).length).toBe(0);
    for (let k = 30; k < 36; k++) rollups.add(SERIES, T0 + k * 10_000, k);
    sweep();
    sweep();
    const counts = lines.filter((l) => l.startsWith('reading_1m')).map((l) => /count=(\d+)i/.exec(l)?.[1]);
    expect(counts).toEqual(['6', '6', '6', '6', '6', '6']);
    expect(rollups.late).toBe(0);
  });

  it('takes back only well-formed state: anything else is counted and left out', () => {
    const { rollups, at, sweep } = rig();
    expect(rollups.restore({ tracks: [{ series: 7, width: 0, writtenUpTo: null, open: [] }, { series: SERIES.key, width: 0, writtenUpTo: null, open: [{ start: T0 }] }] })).toBe(2);
    expect(rollups.restore('garbage')).toBe(1);
    expect(rollups.state().tracks).toEqual([]);
    at(T0 + 10 * MIN);
    expect(() => sweep()).not.toThrow();
  });

  it('continues the windows of a stop after the next start, so a restart does not split a window', () => {
    const first = rig();
    first.rollups.add(SERIES, T0 + 1000, 10);
    first.rollups.add(OTHER, T0 + 2000, 5);
    const state = JSON.parse(JSON.stringify(first.rollups.state())) as ReturnType<Rollups['state']>;
    const second = rig();
    second.rollups.restore(state);
    second.rollups.add(SERIES, T0 + 50_000, 30);
    second.at(T0 + 2 * MIN);
    second.sweep(); // windows that took readings since the last sweep (or the start) wait for the next one
    expect(second.lines).toEqual([]);
    second.sweep();
    expect(second.lines).toEqual([
      `reading_1m,enterprise=E1,hazard_source=TF-1,point=T1 min=10.0,max=30.0,mean=20.0,last=30.0,count=2i ${T0}`,
      `reading_1m,enterprise=E1,hazard_source=TF-1,point=T2 min=5.0,max=5.0,mean=5.0,last=5.0,count=1i ${T0}`,
    ]);
  });

  it('remembers, for a point that went quiet, which windows were written: a replay fills only the later ones', () => {
    const { rollups, lines, at, sweep } = rig();
    for (let k = 0; k < 30; k++) rollups.add(SERIES, T0 + k * 1000, 10); // 08:00:00-08:00:29, then the link drops
    for (const m of [2, 17, 18, 19, 20, 25, 30]) {
      at(T0 + m * MIN);
      sweep();
    }
    expect(rollups.state().tracks).toEqual([]); // forgotten
    const written = lines.length;
    for (let k = 30; k < 30 * 60; k++) rollups.add(SERIES, T0 + k * 1000, 90); // its buffer, replayed at 08:30
    at(T0 + 33 * MIN);
    sweep();
    sweep();
    const again = lines.slice(written);
    expect(again.some((l) => l.endsWith(` ${T0}`))).toBe(false); // the 08:00 windows are not written again
    expect(again.filter((l) => l.startsWith('reading_1m')).length).toBe(29); // 08:01 … 08:29
    expect(rollups.late).toBe(30); // 08:00:30-08:00:59, left out of the 1-minute window written before (and of the 15-minute one)
  });

  it('forgets a point that stopped reporting once nothing of it can be written any more', () => {
    const { rollups, at, sweep } = rig();
    rollups.add(SERIES, T0, 1);
    at(T0 + 17 * MIN);
    sweep();
    expect(rollups.state().tracks.length).toBe(2);
    at(T0 + 40 * MIN);
    sweep();
    expect(rollups.state().tracks).toEqual([]);
    // A replay of what it sent before it went quiet is not counted again over the windows already written.
    rollups.add(SERIES, T0, 1);
    expect(rollups.late).toBe(1);
    rollups.add(SERIES, T0 + 40 * MIN, 2); // reporting again: its windows start afresh
    expect(rollups.state().tracks.map((t) => t.open.map((w) => w.count))).toEqual([[1], [1]]);
  });
});
