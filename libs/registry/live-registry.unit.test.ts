import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#libs/config/index.js';
import { siteFileSchema } from '#libs/config/sites.config.js';
import { LiveRegistry, type RegistrySwap, type ReloadOutcome } from './live-registry.js';
import { loadRegistry, Registry } from './registry.js';

describe('LiveRegistry', () => {
  it('swaps in a valid registry and says what changed; keeps the old one when the new one is invalid', () => {
    const first = loadRegistry(resolve('config'));
    let next: () => Registry = () => loadRegistry(resolve('config'));
    const live = new LiveRegistry(first, () => next());
    const swaps: RegistrySwap[] = [];
    const outcomes: ReloadOutcome[] = [];
    live.swaps$.subscribe((s) => swaps.push(s));
    live.outcomes$.subscribe((o) => outcomes.push(o));

    const at = new Date('2026-11-25T09:00:00Z');
    expect(live.reload(at)).toEqual({ ok: true, at: at.toISOString(), points: 16, added: 0, removed: 0, changed: 0 });
    expect(swaps).toHaveLength(1);
    expect(swaps[0]?.previous).toBe(first);
    const second = live.registry;
    expect(second).not.toBe(first);

    next = () => {
      throw new ConfigError(['config/sites/demo.yaml: enterprises[0].code: bad']);
    };
    expect(live.reload(at)).toEqual({ ok: false, at: at.toISOString(), problems: ['config/sites/demo.yaml: enterprises[0].code: bad'] });
    expect(live.registry).toBe(second);
    expect(live.findPoint('91320594MA1WKTRP3E', 'T101-TE')).toBe(second.findPoint('91320594MA1WKTRP3E', 'T101-TE'));
    expect(swaps).toHaveLength(1);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
    expect(live.lastReload?.ok).toBe(false);
  });
});

const E = '91320594MA1WKTRP3E';

/** A registry of one enterprise whose points are P1…Pn, or the given codes. */
function registryOf(codes: number | readonly string[]): Registry {
  const list = typeof codes === 'number' ? Array.from({ length: codes }, (_, i) => `P${i + 1}`) : codes;
  const content = siteFileSchema.parse({
    enterprises: [
      {
        code: E,
        name: 'Test',
        industry: 'other',
        regionCode: '320594',
        gateways: [{ code: 'GW01' }],
        hazardSources: [{ code: 'HS', name: 'unit', kind: 'other' }],
        points: list.map((code) => ({ code, hazardSource: 'HS', gateway: 'GW01', type: 'temperature', unit: '°C', limits: { h: 40 } })),
      },
    ],
  });
  return Registry.build([{ file: 'sites/test.yaml', content }], []);
}

describe('LiveRegistry: reloads that remove many points', () => {
  const at = new Date('2026-11-25T09:00:00Z');

  it('refuses a reload that removes more than 10 % of the points by default, saying how many, what share and how to force it', () => {
    const first = registryOf(20);
    const live = new LiveRegistry(first, () => registryOf(17));
    const swaps: RegistrySwap[] = [];
    live.swaps$.subscribe((s) => swaps.push(s));

    const outcome = live.reload(at);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems).toHaveLength(1);
    expect(outcome.problems[0]).toContain('would remove 3 of the 20 registered points (15 %');
    expect(outcome.problems[0]).toContain(`${E}/P18, ${E}/P19, ${E}/P20`);
    expect(outcome.problems[0]).toContain('more than the 10 % a reload may remove (RELOAD_MAX_REMOVED_PCT)');
    expect(outcome.problems[0]).toContain('POST /api/registry/reload?force=1');
    expect(live.registry).toBe(first);
    expect(swaps).toHaveLength(0);
    expect(live.lastReload).toBe(outcome);
  });

  it('accepts exactly the allowed share, and adding or changing points never counts', () => {
    const live = new LiveRegistry(registryOf(20), () => registryOf(['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8', 'P9', 'P10', 'P11', 'P12', 'P13', 'P14', 'P15', 'P16', 'P17', 'P18', 'NEW1', 'NEW2', 'NEW3']));
    expect(live.reload(at)).toEqual({ ok: true, at: at.toISOString(), points: 21, added: 3, removed: 2, changed: 0 });
  });

  it('swaps in a reload removing more when forced', () => {
    const live = new LiveRegistry(registryOf(20), () => registryOf(2));
    expect(live.reload({ now: at }).ok).toBe(false);
    const swaps: RegistrySwap[] = [];
    live.swaps$.subscribe((s) => swaps.push(s));
    expect(live.reload({ now: at, force: true })).toEqual({ ok: true, at: at.toISOString(), points: 2, added: 0, removed: 18, changed: 0 });
    expect(swaps).toHaveLength(1);
    expect(live.registry.pointCount).toBe(2);
  });

  it('takes the share from its options: 0 refuses any removal, 100 allows all', () => {
    expect(new LiveRegistry(registryOf(20), () => registryOf(19), { maxRemovedPct: 0 }).reload(at).ok).toBe(false);
    expect(new LiveRegistry(registryOf(4), () => registryOf(3), { maxRemovedPct: 25 }).reload(at).ok).toBe(true);
    expect(new LiveRegistry(registryOf(4), () => registryOf(2), { maxRemovedPct: 25 }).reload(at).ok).toBe(false);
    expect(new LiveRegistry(registryOf(20), () => registryOf(1), { maxRemovedPct: 100 }).reload(at).ok).toBe(true);
  });
});
