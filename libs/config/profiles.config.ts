import { join } from 'node:path';
import { z } from 'zod';
import { limitsSchema, pointTypeSchema, prioritySchema } from './sites.config.js';
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
  source: z.string().min(1, 'the standard or reason behind the values'),
});

export const profileFileSchema = z.strictObject({ profiles: z.array(profileSchema).min(1) });

export type ProfileFile = z.infer<typeof profileFileSchema>;
export type LoadedProfileFile = LoadedFile<ProfileFile>;

/** Reads `profiles/*.yaml` under configDir; the folder is optional. */
export function loadProfileFiles(configDir: string, problems: string[]): LoadedProfileFile[] {
  return [...readConfigFolder(join(configDir, 'profiles'), profileFileSchema, 'profiles', problems, true)];
}
