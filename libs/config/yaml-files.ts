import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import yaml from 'js-yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error.js';

export interface LoadedFile<T> {
  /** Path as shown in messages: relative to the working directory. */
  readonly file: string;
  readonly content: T;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/**
 * Reads every *.yaml / *.yml (and *.json, for machine-made registries) in `dir` in name order, checks it against
 * `schema` and yields it; one file at a time, so a large registry is never held twice. Every problem is
 * appended to `problems`. A missing folder is a problem unless `optional`.
 */
export function* readConfigFolder<S extends z.ZodType>(dir: string, schema: S, what: string, problems: string[], optional = false): Generator<LoadedFile<z.infer<S>>> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  } catch (err) {
    if (!optional) problems.push(`${dir}: cannot read the ${what} folder (${(err as Error).message}); expected a folder of *.yaml files`);
    return;
  }
  if (names.length === 0 && !optional) problems.push(`${dir}: no *.yaml ${what} files; expected at least one`);

  for (const name of names) {
    const loaded = readConfigFile(join(dir, name), schema, problems);
    if (loaded) yield loaded;
  }
}

/** Reads one YAML (or JSON) file and checks it against `schema`; problems name the file and path. */
export function readConfigFile<S extends z.ZodType>(path: string, schema: S, problems: string[]): LoadedFile<z.infer<S>> | null {
  const rel = relative(process.cwd(), path);
  const shown = rel && !rel.startsWith('..') ? rel : path;
  const text = readFileSync(path, 'utf8');
  let data: unknown;
  if (path.endsWith('.json')) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      problems.push(`${shown}: JSON syntax error: ${(err as Error).message}`);
      return null;
    }
  } else {
    try {
      data = yaml.load(text, { filename: shown });
    } catch (err) {
      problems.push(`${shown}: YAML syntax error: ${yamlProblem(err)}`);
      return null;
    }
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${shown}: ${formatPath(issue.path) || '(root)'}: ${issue.message}`);
    return null;
  }
  return { file: shown, content: parsed.data };
}

function yamlProblem(err: unknown): string {
  if (err instanceof yaml.YAMLException) return `${err.reason} at line ${err.mark.line + 1}, column ${err.mark.column + 1}`;
  return String(err);
}

/**
 * Reads `name` under configDir when it exists (else null), checked against `schema`; throws ConfigError naming the
 * file, key and expectation.
 */
export function readOptionalConfigFile<S extends z.ZodType>(configDir: string, name: string, schema: S): z.infer<S> | null {
  const path = join(configDir, name);
  if (!existsSync(path)) return null;
  const problems: string[] = [];
  const loaded = readConfigFile(path, schema, problems);
  if (!loaded) throw new ConfigError(problems);
  return loaded.content;
}
