import type { Enterprise, EscalationPolicy, Region } from '#libs/contracts/index.js';

export interface Me {
  readonly username: string;
  readonly role: string;
  readonly jurisdiction: { readonly all?: boolean; readonly regionCode?: string; readonly enterpriseCodes?: readonly string[] } | null;
  readonly permissions: readonly string[];
}

export type EnterpriseView = Enterprise & { readonly location: { readonly lat: number; readonly lon: number } | null };

/** What the page knows of the signed-in user's jurisdiction, shared by its panels. */
export class PageModel {
  readonly enterprises = new Map<string, EnterpriseView>();
  policy: EscalationPolicy | null = null;
  /** The server's clock minus this browser's, from the heartbeats: ages and timers count in server time. */
  clockOffsetMs = 0;

  constructor(readonly me: Me) {}

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  can(permission: string): boolean {
    return this.me.permissions.includes(permission);
  }

  enterpriseName(code: string): string {
    return this.enterprises.get(code)?.name ?? code;
  }

  /** The county (else city, else the code itself) an enterprise belongs to. */
  regionOf(code: string): string | null {
    const r: Region | undefined = this.enterprises.get(code)?.region;
    return r === undefined ? null : (r.county ?? r.city ?? r.code);
  }
}

export function jurisdictionText(j: Me['jurisdiction']): string {
  if (!j) return '';
  if (j.all) return '全部 all';
  if (j.regionCode) return j.regionCode;
  if (j.enterpriseCodes) return j.enterpriseCodes.join(', ');
  return JSON.stringify(j);
}
