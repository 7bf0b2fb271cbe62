import { join } from 'node:path';
import { z } from 'zod';
import { compositeBodyShape, limitsSchema, pointTypeSchema, prioritySchema, ruleSettingsShape } from './sites.config.js';
import { readConfigFolder, type LoadedFile } from './yaml-files.js';

const profileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'a lower-case name of letters, digits, "_", "-" or "."'),
  match: z.strictObject({ type: pointTypeSchema, substance: z.string().min(1).optional() }).optional(),
  unit: z.string().min(1).optional(),
  limits: limitsSchema.default({}),
  deadband: z.number().finite().min(0).optional(),
  onDelayS: z.number().finite().min(0).optional(),
  offDelayS: z.number().finite().min(0).optional(),
  priority: prioritySchema.optional(),
  ...ruleSettingsShape,
  source: z.string().min(1, 'the standard or reason behind the values'),
});

/** A composite rule applied to every hazard source of the given kinds whose points fill every clause. */
const compositeTemplateSchema = z.strictObject({
  ...compositeBodyShape,
  appliesTo: z.strictObject({
    kinds: z.array(z.enum(['tank_farm', 'warehouse', 'reactor_unit', 'production_unit', 'dust_collector', 'polishing_line', 'grinding_line', 'other'])).min(1),
  }),
  source: z.string().min(1, 'the standard or reason behind the rule'),
});

export const profileFileSchema = z
  .strictObject({ profiles: z.array(profileSchema).default([]), composites: z.array(compositeTemplateSchema).default([]) })
  .refine((f) => f.profiles.length + f.composites.length > 0, 'at least one profile or composite');

export type ProfileFile = z.infer<typeof profileFileSchema>;
export type LoadedProfileFile = LoadedFile<ProfileFile>;

/** Reads `profiles/*.yaml` under configDir; the folder is optional. */
export function loadProfileFiles(configDir: string, problems: string[]): LoadedProfileFile[] {
  return [...readConfigFolder(join(configDir, 'profiles'), profileFileSchema, 'profiles', problems, true)];
}
