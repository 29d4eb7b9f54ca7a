import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { TributaryError, errorMessage } from '../errors.js';

export interface ConfigProblem {
  /** Dotted key path from the top of the file, e.g. `sources.app.include[0]`. */
  path: string;
  message: string;
}

/** Thrown for every configuration mistake; the message names the file, each key path and what was expected. */
export class ConfigError extends TributaryError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((problem) => `  ${file}: ${problem.path || '(top level)'}: ${problem.message}`);
    super('CONFIG_INVALID', `invalid configuration in ${file}:\n${lines.join('\n')}`, { context: { file } });
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

const ENV_REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in string values (not in the raw text,
 * so a variable can never inject YAML structure). `$$` is a literal `$`.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[] = [], problems: ConfigProblem[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (whole, name: string | undefined, fallback: string | undefined) => {
      if (whole === '$$') return '$';
      const resolved = env[name as string];
      if (resolved !== undefined && resolved !== '') return resolved;
      if (fallback !== undefined) return fallback;
      problems.push({ path: formatPath(path), message: `environment variable ${name} is not set and has no default (write \${${name}:-default})` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, [...path, index], problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, [...path, key], problems)]));
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: path ? `${path}.${key}` : key,
      message: 'unknown key (check the spelling; see the configuration reference in README.md)',
    }));
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return [{ path, message: `required key is missing (expected ${issue.expected})` }];
  }
  return [{ path, message: issue.message }];
}

/** Validates an already parsed document; pure, so `tributary validate` and start-up share it. */
export function validateConfig<S extends z.ZodType>(schema: S, document: unknown, file: string, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const problems: ConfigProblem[] = [];
  const interpolated = interpolateEnv(document ?? {}, env, [], problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  const result = schema.safeParse(interpolated);
  if (!result.success) throw new ConfigError(file, result.error.issues.flatMap(describeIssue));
  return result.data;
}

export function parseYaml(text: string, file: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((error) => ({ path: '', message: `YAML syntax error: ${error.message.split('\n')[0] ?? error.message}` })),
    );
  }
  return document.toJS();
}

export async function loadConfigFile<S extends z.ZodType>(schema: S, file: string, env: NodeJS.ProcessEnv = process.env): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TributaryError('CONFIG_UNREADABLE', `cannot read configuration file ${file}: ${errorMessage(error)}`, { cause: error });
  }
  return validateConfig(schema, parseYaml(text, file), file, env);
}
