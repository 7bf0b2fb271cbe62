// Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a 31-symbol alphabet,
// the last one a check character computed from the first 17 with weights 3^(i) mod 31.
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character for the first 17 characters, or null when they hold a symbol outside the alphabet. */
export function creditCodeCheckChar(first17: string): string | null {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = ALPHABET.indexOf(first17[i] ?? '');
    if (v < 0) return null;
    sum += v * WEIGHTS[i]!;
  }
  return ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** Null when the code is valid, else what is wrong with it. */
export function creditCodeProblem(code: string): string | null {
  if (code.length !== 18) return `must be 18 characters, got ${code.length}`;
  const check = creditCodeCheckChar(code.slice(0, 17));
  if (check === null) return `may only hold the characters ${ALPHABET}`;
  if (code[17] !== check) return `check character is ${code[17]}, expected ${check} (GB 32100-2015)`;
  return null;
}
