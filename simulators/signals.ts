import type { Point } from '#libs/contracts/index.js';

/** Deterministic PRNG (mulberry32) so scenarios repeat for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal operating value and spread of a point: the middle of its normal band, noise 2 % of the band. */
export function normalBand(p: Point): { center: number; noise: number } {
  // A running plant: fans on, no sparks.
  if (p.type === 'state') return { center: p.role === 'fan' ? 1 : 0, noise: 0 };
  if (p.type === 'spark') return { center: 0, noise: 0 };
  const lo = p.limits.l ?? p.limits.ll ?? p.range?.[0] ?? 0;
  const hi = p.limits.h ?? p.limits.hh ?? p.range?.[1] ?? 100;
  const center = p.limits.l === null && p.limits.ll === null && p.limits.h !== null ? hi * 0.5 : (lo + hi) / 2;
  return { center, noise: Math.abs(hi - lo) * 0.02 };
}

const DAY = 86_400_000;
const BEIJING = 8 * 3_600_000;

/** A point's value at a moment (epoch ms): one signal per point, deterministic for a seed. */
export type Signal = (t: number) => number;

/** FNV-1a of a string: a seed per point or alarm. */
export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The normal band a signal stays in: between L and H where set, else the range, with a margin. */
function band(p: Point): { lo: number; hi: number } {
  const lo = p.limits.l ?? p.limits.ll ?? p.range?.[0] ?? 0;
  const hi = p.limits.h ?? p.limits.hh ?? p.range?.[1] ?? 100;
  return lo < hi ? { lo, hi } : { lo: hi, hi: lo };
}

/** Local hour of the day in the plants' time zone (UTC+8). */
const hourOf = (t: number): number => (((t + BEIJING) % DAY) + DAY) % DAY / 3_600_000;

/**
 * Realistic normal operation per point type (docs/scenarios.md), inside the point's normal band so that a healthy
 * plant raises nothing: tank temperatures follow the day (warmest mid-afternoon) with noise, pressures follow
 * their tank's temperature, levels fill and drain over hours, gas readings stay near zero with rare small spikes
 * well below H, dust-collector differential pressure drifts slowly, fans run, power follows the day shift (or stays
 * at standby when the plant is declared stopped).
 * The same point and seed give the same signal.
 */
export function signalOf(p: Point, seed: number, opts: { readonly declaredStopped?: boolean } = {}): Signal {
  const random = seededRandom(seed ^ hashString(`${p.enterpriseCode}/${p.code}`));
  const { lo, hi } = band(p);
  const span = hi - lo;
  const mid = (lo + hi) / 2;
  const noise = (): number => (random() - 0.5) * span * 0.02;
  const phase = random() * DAY;
  // Temperatures peak at 15:00 local; a tank's pressure follows its temperature (same phase for one hazard source).
  const daily = (t: number): number => Math.sin(((hourOf(t) - 9) / 24) * 2 * Math.PI);
  switch (p.type) {
    case 'temperature':
      return (t) => mid + span * 0.15 * daily(t) + noise();
    case 'pressure':
      return (t) => mid + span * 0.1 * daily(t) + noise() * 0.5;
    case 'level':
    case 'water_level': {
      // A triangle between 30 % and 70 % of the band, one cycle every 6–12 hours.
      const period = (6 + random() * 6) * 3_600_000;
      return (t) => {
        const x = (((t + phase) % period) + period) % period / period;
        return lo + span * (0.3 + 0.4 * (x < 0.5 ? 2 * x : 2 - 2 * x)) + noise() * 0.25;
      };
    }
    case 'combustible_gas':
    case 'toxic_gas': {
      // Near zero; about one reading in 2,000 a spike of up to a third of H.
      const h = p.limits.h ?? p.limits.hh ?? (p.range?.[1] ?? 100) * 0.25;
      return () => Math.max(0, random() < 0.0005 ? h * (0.15 + random() * 0.18) : h * 0.02 * random());
    }
    case 'oxygen':
      return () => 20.9 + (random() - 0.5) * 0.2;
    case 'differential_pressure':
      return (t) => mid + span * 0.15 * Math.sin(((t + phase) / (4 * 3_600_000)) * 2 * Math.PI) + noise();
    case 'spark':
      return () => 0;
    case 'state':
      return () => (p.role === 'fan' ? 1 : 0);
    case 'power':
    case 'current': {
      // The day shift (08:00–20:00 local) at 60–75 % of the range, a tenth of it at night; a plant declared stopped
      // draws standby power only (lighting, monitoring: 1–2 % of the range).
      const top = p.range?.[1] ?? 100;
      if (opts.declaredStopped === true) return () => top * (0.01 + 0.01 * random());
      return (t) => {
        const h = hourOf(t);
        return h >= 8 && h < 20 ? top * (0.6 + 0.15 * random()) : top * (0.08 + 0.04 * random());
      };
    }
    default: {
      const { center, noise: n } = normalBand(p);
      return () => center + (random() - 0.5) * 2 * n;
    }
  }
}
