import type { Region } from '#libs/contracts/index.js';

/**
 * GB/T 2260 division codes: 2 digits province, 2 city, 2 county. A code ending in 00 names a city (or a
 * province when it ends in 0000), so the lower levels are null.
 */
export function regionOf(code: string): Region {
  const province = `${code.slice(0, 2)}0000`;
  if (code.endsWith('0000')) return { code, province, city: null, county: null };
  const city = `${code.slice(0, 4)}00`;
  if (code.endsWith('00')) return { code, province, city, county: null };
  return { code, province, city, county: code };
}

/** Whether `region` lies within the division `within` (a province, city or county code). */
export function regionWithin(region: Region, within: string): boolean {
  return region.province === within || region.city === within || region.county === within;
}
