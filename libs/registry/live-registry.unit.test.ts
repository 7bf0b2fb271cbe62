import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#libs/config/index.js';
import { LiveRegistry, type RegistrySwap, type ReloadOutcome } from './live-registry.js';
import { loadRegistry, type Registry } from './registry.js';

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
