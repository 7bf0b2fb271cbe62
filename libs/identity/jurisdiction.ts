import { z } from 'zod';
import type { Jurisdiction } from '#libs/contracts/index.js';

const REGION = /^\d{6}$/;

export const jurisdictionSchema = z.union([
  z.strictObject({ all: z.literal(true) }),
  z.strictObject({ regionCode: z.string().regex(REGION, 'a 6-digit division code such as 370800') }),
  z.strictObject({ enterpriseCodes: z.array(z.string().min(1).max(64)).min(1).max(10_000) }),
]);

/**
 * The command-line form of a jurisdiction: `*` (all), a 6-digit division code (`370811`), or enterprise codes
 * separated by commas. Null when it is none of these.
 */
export function parseJurisdiction(text: string): Jurisdiction | null {
  const t = text.trim();
  if (t === '*' || t === 'all') return { all: true };
  if (REGION.test(t)) return { regionCode: t };
  const codes = t.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  return codes.length > 0 && codes.every((c) => /^[0-9A-Z]{1,64}$/.test(c)) ? { enterpriseCodes: codes } : null;
}

export function describeJurisdiction(j: Jurisdiction): string {
  if ('all' in j) return '*';
  if ('regionCode' in j) return j.regionCode;
  return j.enterpriseCodes.join(',');
}

/** Whether `inner` lies within `outer`, judged by codes alone (a region inside a region, listed enterprises). */
export function jurisdictionWithin(inner: Jurisdiction, outer: Jurisdiction, regionOfEnterprise: (code: string) => string | undefined): boolean {
  if ('all' in outer) return true;
  if ('all' in inner) return false;
  if ('regionCode' in outer) {
    const within = (code: string): boolean => regionContains(outer.regionCode, code);
    if ('regionCode' in inner) return within(inner.regionCode);
    return inner.enterpriseCodes.every((e) => {
      const r = regionOfEnterprise(e);
      return r !== undefined && within(r);
    });
  }
  if ('regionCode' in inner) return false;
  const allowed = new Set(outer.enterpriseCodes);
  return inner.enterpriseCodes.every((e) => allowed.has(e));
}

/** GB/T 2260: a province `xx0000` holds `xx….`, a city `xxyy00` holds `xxyy..`, a county only itself. */
export function regionContains(outer: string, code: string): boolean {
  if (outer.endsWith('0000')) return code.startsWith(outer.slice(0, 2));
  if (outer.endsWith('00')) return code.startsWith(outer.slice(0, 4));
  return code === outer;
}
