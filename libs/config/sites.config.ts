import { join } from 'node:path';
import { z } from 'zod';
import { readConfigFolder, type LoadedFile } from './yaml-files.js';

/** YAML reads an unquoted all-digit code as a number; say so instead of "expected string". */
const QUOTE_HINT = { error: (issue: { input?: unknown }) => (typeof issue.input === 'number' ? 'a code, quoted in YAML ("…") so it is not read as a number' : undefined) };
export const codeSchema = z.string(QUOTE_HINT).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a code of letters, digits, "_", "-" or "." (max 64)');
export const pointTypeSchema = z.enum([
  'temperature', 'pressure', 'level', 'flow', 'combustible_gas', 'toxic_gas', 'oxygen',
  'differential_pressure', 'water_level', 'spark', 'state', 'power', 'current',
]);
export const prioritySchema = z.enum(['high', 'medium', 'low']);
/** A limit left out is inherited from the point's profile; `null` sets it to "none" whatever the profile says. */
const limit = z.number().finite().nullable().optional();
export const limitsSchema = z.strictObject({ ll: limit, l: limit, h: limit, hh: limit });
const seconds = z.number().finite().min(0);
const positive = z.number().finite().positive();

/** Rule settings beyond limits; a profile may give them too, and `null` on a point turns the profile's off. */
export const ruleSettingsShape = {
  rate: z
    .strictObject({ risePerMin: positive.optional(), fallPerMin: positive.optional(), windowS: positive.default(60) })
    .refine((r) => r.risePerMin !== undefined || r.fallPerMin !== undefined, 'risePerMin or fallPerMin (units per minute)')
    .nullable()
    .optional(),
  trend: z.strictObject({ horizonS: positive, windowS: positive.default(300) }).nullable().optional(),
  stuck: z.strictObject({ periods: z.number().int().min(2), band: z.number().finite().min(0) }).nullable().optional(),
  noDataPeriods: z.number().int().min(0).optional(),
};

const severitySchema = z.enum(['critical', 'major', 'minor', 'warning']);
const limitLevelSchema = z.enum(['HH', 'H', 'L', 'LL']);

/** One clause of a composite rule: which points (by code, type or role) and exactly one test. */
export const clauseSchema = z
  .strictObject({
    point: codeSchema.optional(),
    type: z.lazy(() => pointTypeSchema).optional(),
    role: z.string().min(1).optional(),
    above: z.number().finite().optional(),
    below: z.number().finite().optional(),
    outside: z.tuple([z.number().finite(), z.number().finite()]).optional(),
    equals: z.number().finite().optional(),
    risingPerMin: positive.optional(),
    fallingPerMin: positive.optional(),
    level: limitLevelSchema.optional(),
  })
  .refine((c) => c.point !== undefined || c.type !== undefined || c.role !== undefined, 'point, type or role to select the points')
  .refine(
    (c) => [c.above, c.below, c.outside, c.equals, c.risingPerMin, c.fallingPerMin, c.level].filter((t) => t !== undefined).length === 1,
    'exactly one test: above, below, outside, equals, risingPerMin, fallingPerMin or level',
  );

export const compositeBodyShape = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'a lower-case name of letters, digits, "_", "-" or "."'),
  message: z.string().min(1),
  severity: severitySchema.default('critical'),
  onDelayS: seconds.default(0),
  all: z.array(clauseSchema).min(1),
};

const pointSchema = z.strictObject({
  code: codeSchema,
  name: z.string().min(1).optional(),
  hazardSource: codeSchema,
  gateway: codeSchema,
  type: pointTypeSchema,
  substance: z.string().min(1).optional(),
  unit: z.string().min(1),
  range: z.tuple([z.number().finite(), z.number().finite()]).optional(),
  profile: z.string().min(1).optional(),
  limits: limitsSchema.optional(),
  deadband: z.number().finite().min(0).optional(),
  onDelayS: seconds.optional(),
  offDelayS: seconds.optional(),
  samplePeriodS: z.number().finite().positive().optional(),
  priority: prioritySchema.optional(),
  role: z.string().min(1).optional(),
  ...ruleSettingsShape,
});

const hazardSourceSchema = z.strictObject({
  code: codeSchema,
  name: z.string().min(1),
  kind: z.enum(['tank_farm', 'warehouse', 'reactor_unit', 'production_unit', 'dust_collector', 'polishing_line', 'grinding_line', 'other']),
  grade: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).nullable().optional(),
  grading: z
    .strictObject({
      alpha: z.number().positive(),
      substances: z
        .array(z.strictObject({ name: z.string().min(1), q: z.number().min(0), Q: z.number().positive(), beta: z.number().positive() }))
        .min(1),
    })
    .optional(),
  location: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).optional(),
});

const enterpriseSchema = z.strictObject({
  code: z.string(QUOTE_HINT).regex(/^[0-9A-HJ-NPQRTUWXY]{18}$/, 'an 18-character unified social credit code (GB 32100-2015)'),
  name: z.string().min(1),
  industry: z.enum(['hazardous_chemicals', 'dust', 'mining', 'other']),
  regionCode: z.string().regex(/^[1-9]\d{5}$/, 'a 6-digit administrative division code, e.g. "320594"'),
  dutyContacts: z
    .array(z.strictObject({ name: z.string().min(1), role: z.string().min(1).optional(), phone: z.string().regex(/^[0-9+() -]{5,20}$/, 'a phone number') }))
    .default([]),
  gateways: z
    .array(z.strictObject({ code: codeSchema, credentialsRef: z.string().min(1).optional(), reportingPeriodS: z.number().positive().default(60) }))
    .min(1),
  hazardSources: z.array(hazardSourceSchema).default([]),
  points: z.array(pointSchema).default([]),
  votingGroups: z
    .array(
      z.strictObject({
        code: codeSchema,
        name: z.string().min(1),
        hazardSource: codeSchema.optional(),
        points: z.array(codeSchema).min(2),
        k: z.number().int().min(1),
        level: z.enum(['H', 'HH']).default('H'),
        severity: severitySchema.default('critical'),
      }),
    )
    .default([]),
  composites: z.array(z.strictObject({ ...compositeBodyShape, hazardSource: codeSchema })).default([]),
  electricity: z
    .strictObject({
      capacityKw: positive.optional(),
      declaredState: z.enum(['running', 'stopped']).default('running'),
      stoppedKw: z.number().finite().min(0).default(10),
      baselineTolerance: positive.default(0.5),
      baselineMinDays: z.number().int().min(1).default(7),
      utcOffsetMin: z.number().int().min(-720).max(840).default(480),
    })
    .optional(),
});

export const siteFileSchema = z.strictObject({ enterprises: z.array(enterpriseSchema).min(1) });

export type SiteFile = z.infer<typeof siteFileSchema>;
export type LoadedSiteFile = LoadedFile<SiteFile>;

/** Reads and schema-checks `sites/*.yaml` under configDir, one file at a time. Cross-references are checked by the registry. */
export function readSiteFiles(configDir: string, problems: string[]): Generator<LoadedSiteFile> {
  return readConfigFolder(join(configDir, 'sites'), siteFileSchema, 'sites', problems);
}
