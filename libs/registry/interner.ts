/**
 * Shares equal values between the points of a large registry (units, codes of gateways and hazard sources,
 * limit sets, ranges), so 440,000 points hold a few hundred distinct copies instead of one each.
 */
export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly objects = new Map<string, object>();

  str(s: string): string {
    let shared = this.strings.get(s);
    if (shared === undefined) {
      // The key must be the copy too: a key that is a slice keeps its source text alive as well.
      shared = detached(s);
      this.strings.set(shared, shared);
    }
    return shared;
  }

  /** One frozen instance per distinct `key`. */
  obj<T extends object>(key: string, make: () => T): T {
    let shared = this.objects.get(key) as T | undefined;
    if (shared === undefined) this.objects.set(key, (shared = Object.freeze(make())));
    return shared;
  }
}

/**
 * A copy of `s` that does not point into the text it was parsed from. V8 represents substrings of 13 or more
 * characters as slices of their parent, so keeping one keeps the whole source file alive.
 */
export function detached(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
