import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config-error.js';

const code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a code of letters, digits, "_", "-" or "." (max 64)');
const limit = z.number().finite().nullable().default(null);

const pointSchema = z.strictObject({
  code,
  name: z.string().min(1).optional(),
  gateway: code,
  type: z.enum([
    'temperature', 'pressure', 'level', 'flow', 'combustible_gas', 'toxic_gas', 'oxygen',
    'differential_pressure', 'water_level', 'spark', 'state', 'power', 'current',
  ]),
  unit: z.string().min(1),
  range: z.tuple([z.number(), z.number()]).optional(),
  limits: z.strictObject({ ll: limit, l: limit, h: limit, hh: limit }).default({ ll: null, l: null, h: null, hh: null }),
  deadband: z.number().min(0).default(0),
});

const hazardSourceSchema = z.strictObject({
  code,
  name: z.string().min(1),
  kind: z.string().min(1),
  grade: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).nullable().default(null),
  points: z.array(pointSchema).default([]),
});

const enterpriseSchema = z.strictObject({
  code: z.string().regex(/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/, 'an 18-character unified social credit code'),
  name: z.string().min(1),
  regionCode: z.string().regex(/^\d{6}$/, 'a 6-digit administrative division code'),
  gateways: z.array(z.strictObject({ code })).min(1),
  hazardSources: z.array(hazardSourceSchema).default([]),
});

export const siteFileSchema = z.strictObject({ enterprises: z.array(enterpriseSchema).min(1) });

export type SiteFile = z.infer<typeof siteFileSchema>;
export interface LoadedSiteFile {
  readonly file: string;
  readonly content: SiteFile;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** Reads and schema-checks every `sites/*.yaml` under configDir. Cross-references are checked by the registry. */
export function loadSiteFiles(configDir: string): LoadedSiteFile[] {
  const dir = join(configDir, 'sites');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
  } catch (err) {
    throw new ConfigError([`${dir}: cannot read the sites directory (${(err as Error).message}); expected a folder of *.yaml files`]);
  }
  if (names.length === 0) throw new ConfigError([`${dir}: no *.yaml site files; expected at least one`]);

  const problems: string[] = [];
  const loaded: LoadedSiteFile[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const shown = relative(process.cwd(), file) || file;
    const doc = parseDocument(readFileSync(file, 'utf8'));
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push(`${shown}: YAML syntax error: ${e.message}`);
      continue;
    }
    const parsed = siteFileSchema.safeParse(doc.toJS());
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${shown}: ${formatPath(issue.path) || '(root)'}: ${issue.message}`);
      continue;
    }
    loaded.push({ file: shown, content: parsed.data });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded;
}
