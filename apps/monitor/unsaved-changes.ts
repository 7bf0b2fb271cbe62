import type { Alarm, AuditRecord, RiskHistoryEntry } from '#libs/contracts/index.js';

/** What one commit writes: each alarm's last state, the audit entries of its steps, the risk changes they caused. */
export interface CommitBatch {
  readonly alarms: readonly Alarm[];
  readonly audit: readonly AuditRecord[];
  readonly risk: readonly RiskHistoryEntry[];
}

/**
 * Alarm changes the alarm store refused, waiting in memory for it to take writes again. Bounded without ever
 * holding up ingestion: each alarm keeps only its latest state (as many as there are alarms), audit entries and
 * risk changes are kept in order up to `maxRecords`; past that they are counted, and the count with the time span
 * is written as one `audit_gap` entry, so the loss is on the record rather than silent.
 */
export class UnsavedChanges {
  private readonly alarms = new Map<string, Alarm>();
  private audit: AuditRecord[] = [];
  private risk: RiskHistoryEntry[] = [];
  private gap: { audit: number; risk: number; from: string; to: string } | null = null;

  constructor(private readonly maxRecords: number) {}

  get empty(): boolean {
    return this.alarms.size === 0 && this.audit.length === 0 && this.risk.length === 0 && this.gap === null;
  }

  /** Alarm states, audit entries and risk changes waiting, and how many were counted past the bound. */
  get counts(): { alarms: number; records: number; beyondBound: number } {
    return { alarms: this.alarms.size, records: this.audit.length + this.risk.length, beyondBound: (this.gap?.audit ?? 0) + (this.gap?.risk ?? 0) };
  }

  add(batch: CommitBatch): void {
    for (const a of batch.alarms) this.alarms.set(a.id, a);
    for (const r of batch.audit) {
      if (this.audit.length + this.risk.length < this.maxRecords) this.audit.push(r);
      else this.beyond('audit', r.at);
    }
    for (const r of batch.risk) {
      if (this.audit.length + this.risk.length < this.maxRecords) this.risk.push(r);
      else this.beyond('risk', r.at);
    }
  }

  /** Everything waiting as one batch, in order, with the `audit_gap` entry last when the bound was reached. */
  batch(): CommitBatch {
    const gap = this.gap;
    const record: AuditRecord[] =
      gap === null
        ? []
        : [{ at: gap.to, actor: 'system', origin: 'system', action: 'audit_gap', alarmId: 'system', detail: { reason: 'alarm store unavailable; changes past the in-memory bound were not kept', auditEntries: gap.audit, riskChanges: gap.risk, from: gap.from, to: gap.to } }];
    return { alarms: [...this.alarms.values()], audit: [...this.audit, ...record], risk: this.risk };
  }

  clear(): void {
    this.alarms.clear();
    this.audit = [];
    this.risk = [];
    this.gap = null;
  }

  private beyond(kind: 'audit' | 'risk', at: string): void {
    this.gap ??= { audit: 0, risk: 0, from: at, to: at };
    this.gap[kind]++;
    this.gap.to = at;
  }
}
