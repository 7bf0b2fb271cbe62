import type { Alarm, HazardSource, Point, RiskAssessment, RiskColour, RiskWeights } from '#libs/contracts/index.js';
import { assessRisk } from './risk.js';

/** A change of colour of a hazard source or an enterprise, with the assessment that caused it. */
export interface RiskChange {
  readonly at: string;
  readonly from: RiskColour | null;
  readonly assessment: RiskAssessment;
}

/** What the board needs of the registry. */
export interface RiskSites {
  allHazardSources(): readonly HazardSource[];
  allPoints(): readonly Point[];
  allEnterprises(): readonly { readonly code: string }[];
}

/**
 * The current four-colour risk of every hazard source and enterprise. Re-assessed for the enterprises whose alarms
 * changed; a change of colour is returned as an event (pushed and stored by the caller).
 */
export class RiskBoard {
  private readonly current = new Map<string, RiskAssessment>();
  private sources = new Map<string, HazardSource[]>();
  private gateways = new Map<string, Map<string, Set<string>>>();
  private enterprises = new Set<string>();

  constructor(
    private readonly weights: RiskWeights,
    sites: RiskSites,
  ) {
    this.reindex(sites);
  }

  /** After a registry reload. */
  reindex(sites: RiskSites): void {
    this.sources = new Map();
    for (const hs of sites.allHazardSources()) pushTo(this.sources, hs.enterpriseCode, hs);
    this.gateways = new Map();
    for (const p of sites.allPoints()) {
      const byHs = this.gateways.get(p.enterpriseCode) ?? new Map<string, Set<string>>();
      byHs.set(p.hazardSourceCode, (byHs.get(p.hazardSourceCode) ?? new Set()).add(p.gatewayCode));
      this.gateways.set(p.enterpriseCode, byHs);
    }
    this.enterprises = new Set(sites.allEnterprises().map((e) => e.code));
  }

  /** Re-assesses the given enterprises (all when omitted) against their active alarms; returns the colour changes. */
  assess(activeAlarms: readonly Alarm[], now: number, enterpriseCodes: Iterable<string> = this.enterprises): RiskChange[] {
    const wanted = new Set(enterpriseCodes);
    const byEnterprise = new Map<string, Alarm[]>();
    for (const a of activeAlarms) if (wanted.has(a.enterpriseCode)) pushTo(byEnterprise, a.enterpriseCode, a);
    const at = new Date(now).toISOString();
    const changes: RiskChange[] = [];
    for (const e of wanted) {
      if (!this.enterprises.has(e)) continue;
      const r = assessRisk({ enterpriseCode: e, hazardSources: this.sources.get(e) ?? [], alarms: byEnterprise.get(e) ?? [], gatewaysOf: this.gateways.get(e) ?? new Map(), now }, this.weights);
      for (const a of [...r.hazardSources, r.enterprise]) {
        const key = `${a.enterpriseCode}/${a.hazardSourceCode ?? ''}`;
        const before = this.current.get(key);
        this.current.set(key, a);
        if (before?.colour !== a.colour) changes.push({ at, from: before?.colour ?? null, assessment: a });
      }
    }
    return changes;
  }

  /** Current assessments: of enterprises (`hazardSourceCode` null) or of hazard sources. */
  list(kind: 'enterprise' | 'hazard_source'): RiskAssessment[] {
    return [...this.current.values()].filter((a) => (kind === 'enterprise') === (a.hazardSourceCode === null));
  }
}

function pushTo<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}
