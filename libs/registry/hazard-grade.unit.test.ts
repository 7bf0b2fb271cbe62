import { describe, expect, it } from 'vitest';
import { gradeOf } from './hazard-grade.js';

const methanol = (q: number) => ({ name: 'methanol', q, Q: 500, beta: 1 });

describe('GB 18218-2018 grading', () => {
  it.each([
    // alpha, q of methanol (Q 500 t, beta 1) → R, grade
    [2, 5000, 20, 3],
    [2, 12_500, 50, 2],
    [2, 24_999, 99.996, 2],
    [2, 25_000, 100, 1],
    [1, 1000, 2, 4],
  ] as const)('alpha %d, %d t of methanol → R %d, grade %d', (alpha, q, r, grade) => {
    const g = gradeOf({ alpha, substances: [methanol(q)] });
    expect(g.r).toBeCloseTo(r, 6);
    expect(g.grade).toBe(grade);
  });

  it('is not a major hazard source when S = Σ q/Q < 1', () => {
    const g = gradeOf({ alpha: 2, substances: [methanol(200), { name: 'H2S', q: 1, Q: 5, beta: 5 }] });
    expect(g.s).toBeCloseTo(0.6, 9);
    expect(g.grade).toBeNull();
  });
});
