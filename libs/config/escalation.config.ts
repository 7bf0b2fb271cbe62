import { z } from 'zod';
import type { EscalationPolicy } from '#libs/contracts/index.js';
import { readOptionalConfigFile } from './yaml-files.js';

const seconds = z.number().finite().positive();
const steps = z
  .strictObject({ countyAfterS: seconds, cityAfterS: seconds })
  .refine((s) => s.cityAfterS > s.countyAfterS, 'cityAfterS greater than countyAfterS (the city is alerted after the county)')
  .nullable();
const severity = z.enum(['critical', 'major', 'minor', 'warning']);

const escalationFileSchema = z.strictObject({
  escalation: z.strictObject({ critical: steps, major: steps, minor: steps, warning: steps }),
  disposalRequired: z.array(severity).default(['critical', 'major']),
  maxShelveS: seconds.default(8 * 3600),
});

/** Used when config/escalation.yaml is absent: 10/30 min for critical, 15/45 min for major alarms (DOMAIN §6). */
export const DEFAULT_ESCALATION: EscalationPolicy = {
  bySeverity: { critical: { countyAfterS: 600, cityAfterS: 1800 }, major: { countyAfterS: 900, cityAfterS: 2700 }, minor: null, warning: null },
  disposalRequired: ['critical', 'major'],
  maxShelveS: 8 * 3600,
};

/** Reads `escalation.yaml` under configDir (optional); throws ConfigError naming the file, key and expectation. */
export function loadEscalationPolicy(configDir: string): EscalationPolicy {
  const c = readOptionalConfigFile(configDir, 'escalation.yaml', escalationFileSchema);
  if (c === null) return DEFAULT_ESCALATION;
  return { bySeverity: c.escalation, disposalRequired: c.disposalRequired, maxShelveS: c.maxShelveS };
}
