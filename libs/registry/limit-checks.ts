import type { PointLimits } from '#libs/contracts/index.js';

const ORDER: readonly (keyof PointLimits)[] = ['ll', 'l', 'h', 'hh'];

export function limitOrderProblems(at: string, limits: PointLimits): string[] {
  const problems: string[] = [];
  let prev: [keyof PointLimits, number] | null = null;
  for (const key of ORDER) {
    const value = limits[key];
    if (value === null || value === undefined) continue;
    if (prev && value <= prev[1]) problems.push(`${at}: ${key} (${value}) must be above ${prev[0]} (${prev[1]}); expected ll < l < h < hh`);
    prev = [key, value];
  }
  return problems;
}

/** `originOf` adds where an inherited limit came from, so the message points at the file to fix. */
export function rangeProblems(at: string, limits: PointLimits, range: readonly [number, number], originOf: (key: keyof PointLimits) => string = () => ''): string[] {
  const [min, max] = range;
  if (min >= max) return [`${at}.range: [${min}, ${max}] must be [min, max] with min < max`];
  const problems: string[] = [];
  for (const key of ORDER) {
    const value = limits[key];
    if (value !== null && (value < min || value > max)) problems.push(`${at}.limits.${key}: ${value} lies outside the measuring range [${min}, ${max}]${originOf(key)}`);
  }
  return problems;
}
