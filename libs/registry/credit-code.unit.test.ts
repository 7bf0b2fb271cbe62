import { describe, expect, it } from 'vitest';
import { creditCodeProblem } from './credit-code.js';

describe('unified social credit code (GB 32100-2015)', () => {
  it('accepts codes whose check character matches', () => {
    expect(creditCodeProblem('91350100M000100Y43')).toBeNull();
    expect(creditCodeProblem('91320594MA1WKTRP3E')).toBeNull();
  });

  it('says what is wrong with a bad code', () => {
    expect(creditCodeProblem('91350100M000100Y44')).toBe('check character is 4, expected 3 (GB 32100-2015)');
    expect(creditCodeProblem('91350100M000100Y4')).toBe('must be 18 characters, got 17');
    expect(creditCodeProblem('91350100MI00100Y43')).toMatch(/may only hold the characters 0123456789ABCDEFGHJKLMNPQRTUWXY/);
  });
});
