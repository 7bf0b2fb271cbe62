import type { Subject } from '#libs/contracts/index.js';
import type { Registry } from '#libs/registry/index.js';

/** Alarms of the monitoring platform itself carry this enterprise code: every operator sees them, since they say the screen may be blind. */
export const SYSTEM_ENTERPRISE = 'system';

const cache = new WeakMap<Registry, Map<string, ReadonlySet<string>>>();

/** The enterprises a jurisdiction covers in this registry, computed once per registry version. */
function enterprisesOf(subject: Subject, registry: Registry): ReadonlySet<string> | null {
  const j = subject.jurisdiction;
  if ('all' in j) return null;
  const key = JSON.stringify(j);
  let perRegistry = cache.get(registry);
  if (!perRegistry) cache.set(registry, (perRegistry = new Map<string, ReadonlySet<string>>()));
  let codes = perRegistry.get(key);
  if (!codes) {
    codes = new Set('regionCode' in j ? registry.queryEnterprises({ regionCode: j.regionCode }).map((e) => e.code) : j.enterpriseCodes);
    perRegistry.set(key, codes);
  }
  return codes;
}

/** What one authenticated caller may see: built per request (and per WebSocket) from its subject and the registry in force. */
export class Access {
  private readonly codes: ReadonlySet<string> | null;

  constructor(
    readonly subject: Subject,
    registry: Registry,
  ) {
    this.codes = enterprisesOf(subject, registry);
  }

  /** Null when the caller sees every enterprise. */
  get enterpriseCodes(): ReadonlySet<string> | null {
    return this.codes;
  }

  sees(enterpriseCode: string): boolean {
    return this.codes === null || enterpriseCode === SYSTEM_ENTERPRISE || this.codes.has(enterpriseCode);
  }

  /** Narrows a query's enterprise codes (undefined: any) to what the caller sees; the platform's own alarms stay in. */
  narrow(requested: readonly string[] | undefined): string[] | undefined {
    if (this.codes === null) return requested === undefined ? undefined : [...requested];
    return requested === undefined ? [...this.codes, SYSTEM_ENTERPRISE] : requested.filter((c) => this.sees(c));
  }
}
