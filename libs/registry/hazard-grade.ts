// Major hazard source identification and grading, GB 18218-2018 §4.1 and §4.2.

export interface GradingSubstance {
  readonly name: string;
  /** Actual quantity present, tonnes. */
  readonly q: number;
  /** Threshold quantity of the substance (临界量), tonnes. */
  readonly Q: number;
  /** Correction factor β for the substance's hazard (校正系数). */
  readonly beta: number;
}

export interface GradingInputs {
  /** Correction factor α for people exposed outside the site (暴露人员校正系数). */
  readonly alpha: number;
  readonly substances: readonly GradingSubstance[];
}

export interface Grading {
  /** S = Σ qᵢ/Qᵢ; a site is a major hazard source when S ≥ 1. */
  readonly s: number;
  /** R = α Σ βᵢ qᵢ/Qᵢ. */
  readonly r: number;
  /** 1 (R ≥ 100) … 4 (R < 10); null when S < 1 (not a major hazard source). */
  readonly grade: 1 | 2 | 3 | 4 | null;
}

export function gradeOf(inputs: GradingInputs): Grading {
  let s = 0;
  let weighted = 0;
  for (const { q, Q, beta } of inputs.substances) {
    s += q / Q;
    weighted += (beta * q) / Q;
  }
  const r = inputs.alpha * weighted;
  if (s < 1) return { s, r, grade: null };
  return { s, r, grade: r >= 100 ? 1 : r >= 50 ? 2 : r >= 10 ? 3 : 4 };
}
