const MAX_SHOWN = 50;

/** A configuration problem found at boot. Every message names where (variable or file + path) and what is expected. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    const shown = problems.slice(0, MAX_SHOWN).map((p) => `  - ${p}`);
    if (problems.length > MAX_SHOWN) shown.push(`  … and ${problems.length - MAX_SHOWN} more problems`);
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${shown.join('\n')}`);
    this.name = 'ConfigError';
  }
}
