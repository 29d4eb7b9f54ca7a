import { open, type FileHandle } from 'node:fs/promises';
import { CST, Lexer, LineCounter, isAlias, isScalar, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { TributaryError, errorMessage } from '../errors.js';
import { isUnsafeKeySegment } from '../record/key-path.js';

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

/**
 * Key names whose values (and everything under them) may be secrets: passwords, tokens, keys, credentials,
 * and whole `sasl`, `auth`, `authorization` and `tls` sections.
 */
const SECRET_KEY_NAME = /pass(word|wd)?|secret|token|credential|api_?key|private|cookie|auth|sasl|tls|(^|_)key(_|$)/i;
const REDACTED = '<redacted>';
const CONFIG_KEY_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const MAX_PROBLEMS_SHOWN = 50;
/** Shorter strings are not scrubbed from messages: they would mangle the message and reveal nothing. */
const MIN_SCRUBBED_LENGTH = 3;

function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path.some((segment) => typeof segment === 'string' && SECRET_KEY_NAME.test(segment));
}

/**
 * Every string that may be a secret: values and key names under a secret-named key. Key names count because a
 * brace typo (`password: {hunter2}`) turns a password into a key. Iterative: documents are already depth-bounded,
 * but this must not be the place that overflows.
 */
function secretStringsOf(document: unknown, into: Set<string>): Set<string> {
  const pending: Array<{ value: unknown; secret: boolean }> = [{ value: document, secret: false }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value, secret } = item;
    if (typeof value === 'string') {
      if (secret && value.length >= MIN_SCRUBBED_LENGTH) into.add(value);
    } else if (Array.isArray(value)) {
      for (const element of value) pending.push({ value: element, secret });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, element] of Object.entries(value)) {
        const secretHere = secret || SECRET_KEY_NAME.test(key);
        // A key without a value, or one no configuration key looks like, may be a value that lost its key.
        const mayBeValue = element === null || element === '' || !CONFIG_KEY_NAME.test(key);
        if (secret && mayBeValue && key.length >= MIN_SCRUBBED_LENGTH) into.add(key);
        pending.push({ value: element, secret: secretHere });
      }
    }
  }
  return into;
}

/** Replaces every known secret in a message or path with `<redacted>`, longest first so no part of one survives. */
function scrub(text: string, secrets: ReadonlySet<string>): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out;
}

/** The value at a zod issue path, looked up through own properties only. */
function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let value = document;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, segment)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue, document: unknown): ConfigProblem[] {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const secretParent = isSecretPath(issue.path);
    return issue.keys.map((key) => {
      const value = valueAt(document, [...issue.path, key]);
      // A "key" without a value, or one no key looks like, is likely a value that lost its key to a brace typo.
      const hidden = !CONFIG_KEY_NAME.test(key) || (secretParent && (value === null || value === ''));
      return {
        path: hidden ? `${path}.${REDACTED}` : path ? `${path}.${key}` : key,
        message: hidden
          ? 'unknown key (its name is not shown: it may be a secret that lost its key; check the spelling and the braces)'
          : 'unknown key (check the spelling; see the configuration reference in README.md)',
      };
    });
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return [{ path, message: `required key is missing (expected ${issue.expected})` }];
  }
  return [{ path, message: issue.message }];
}

/**
 * Validates an already parsed document; pure, so `tributary validate` and start-up share it. No message names a
 * value found under a secret-named key (before or after `${VAR}` interpolation).
 */
export function validateConfig<S extends z.ZodType>(schema: S, document: unknown, file: string, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const problems: ConfigProblem[] = [];
  const interpolated = interpolateEnv(document ?? {}, env, [], problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  const result = schema.safeParse(interpolated);
  if (!result.success) {
    const secrets = secretStringsOf(interpolated, secretStringsOf(document, new Set()));
    const described = result.error.issues.flatMap((issue) => describeIssue(issue, interpolated));
    // A generated file can hold thousands of mistakes; the first ones are what a person reads.
    const shown = described.slice(0, MAX_PROBLEMS_SHOWN).map((problem) => ({ path: scrub(problem.path, secrets), message: scrub(problem.message, secrets) }));
    if (described.length > shown.length) shown.push({ path: '', message: `and ${described.length - shown.length} more problems` });
    throw new ConfigError(file, shown);
  }
  return result.data;
}

/** Config and rule files are hand-written: anything larger is a mistake (or an attack on the parser). */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;
/** Deeper nesting than any real configuration needs; bounds the YAML library's recursion. */
export const MAX_NESTING_DEPTH = 64;
/** Anchors and aliases are allowed for sharing a block, not for building exponential documents. */
export const MAX_ALIAS_COUNT = 100;

/**
 * A YAML library message, reduced to its first line and without quoted source
 * text: the library echoes tokens (`Unexpected scalar token in YAML stream:
 * "..."`), and a stray token may well be half of a password.
 */
function yamlReason(error: unknown): string {
  const firstLine = (errorMessage(error).split('\n')[0] ?? '').replace(/"(?:[^"\\]|\\.)*"/g, '<redacted>');
  return firstLine.length > 200 ? `${firstLine.slice(0, 200)}…` : firstLine;
}

/**
 * A linear pre-scan over the YAML tokens, before the document is built: the
 * library composes nested collections recursively and stringifies complex keys
 * (quadratic with anchors), so depth, explicit `?` keys and alias counts are
 * refused here, where each costs O(1) per token.
 */
function checkYamlShape(text: string, file: string): void {
  // Only on the way out, so counting lines here costs one pass at most.
  const problem = (offset: number, message: string): ConfigError => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const col = offset - before.lastIndexOf('\n');
    return new ConfigError(file, [{ path: '', message: `YAML line ${line}, column ${col}: ${message}` }]);
  };
  const indents: number[] = [];
  let flowDepth = 0;
  let atLineStart = true;
  let lineIndent = 0;
  let lineIndicators = 0;
  let nextIsScalarSource = false;
  let aliases = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const start = offset;
    // The lexer's control tokens (document, scalar and flow-end markers) are not source text.
    if (token !== CST.DOCUMENT && token !== CST.SCALAR && token !== CST.FLOW_END) offset += token.length;
    if (nextIsScalarSource) {
      nextIsScalarSource = false;
      // A block scalar's source runs to the end of its last line.
      if (token.endsWith('\n')) {
        atLineStart = true;
        lineIndent = 0;
      }
      continue;
    }
    if (token === CST.SCALAR) {
      nextIsScalarSource = true;
    }
    const type = CST.tokenType(token);
    if (type === 'newline') {
      atLineStart = true;
      lineIndent = 0;
      continue;
    }
    if (type === 'space' || type === 'comment' || type === 'byte-order-mark' || type === 'doc-mode' || type === 'flow-error-end') {
      if (type === 'space' && atLineStart) lineIndent = token.length;
      continue;
    }
    if (atLineStart) {
      atLineStart = false;
      lineIndicators = 0;
      while (indents.length > 0 && (indents[indents.length - 1] as number) >= lineIndent) indents.pop();
      indents.push(lineIndent);
    }
    switch (type) {
      case 'seq-item-ind':
        lineIndicators++;
        break;
      case 'explicit-key-ind':
        throw problem(start, 'explicit (`?`) mapping keys are not supported; keys are plain names');
      case 'flow-map-start':
      case 'flow-seq-start':
        flowDepth++;
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        flowDepth = Math.max(0, flowDepth - 1);
        break;
      case 'alias':
        if (++aliases > MAX_ALIAS_COUNT) throw problem(start, `more than ${MAX_ALIAS_COUNT} aliases (*name)`);
        break;
      default:
        break;
    }
    if (indents.length + lineIndicators + flowDepth > MAX_NESTING_DEPTH) throw problem(start, `nested deeper than ${MAX_NESTING_DEPTH} levels`);
  }
}

/**
 * Keys must be plain scalars: a collection as a key is stringified by the
 * library (quadratic, and a brace typo in a value would turn a password into
 * key text), and prototype machinery is never a key.
 */
function checkKeys(document: Document.Parsed, file: string, lines: LineCounter): void {
  const problems: ConfigProblem[] = [];
  const where = (node: { range?: [number, number, number] | null } | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return 'YAML';
    const { line, col } = lines.linePos(offset);
    return `YAML line ${line}, column ${col}`;
  };
  visit(document, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = pair.key as Node | null;
        if (key === null || !isScalar(key)) continue;
        // As object keys, 1 and "1" are the same key.
        const name = String(key.value);
        if (seen.has(name)) problems.push({ path: '', message: `${where(key)}: duplicate key (map keys must be unique)` });
        seen.add(name);
      }
      return undefined;
    },
    Pair(_, pair) {
      const key = pair.key as Node | null;
      if (key !== null && isScalar(key) && key.value !== null && typeof key.value === 'object') {
        // A tagged scalar (`!!binary`, `!!timestamp`) resolves to an object the library would stringify with a warning.
        problems.push({ path: '', message: `${where(key)}: mapping keys must be plain names, not tagged values` });
        return visit.SKIP;
      }
      if (key === null || isScalar(key)) {
        const name = key === null ? '' : String(key.value);
        if (isUnsafeKeySegment(name)) problems.push({ path: '', message: `${where(key)}: the key ${name} is not allowed` });
        return undefined;
      }
      problems.push({
        path: '',
        message: `${where(key)}: mapping keys must be plain names, not ${isAlias(key) ? 'aliases' : 'collections'} (a stray { or [ ?)`,
      });
      return visit.SKIP;
    },
  });
  if (problems.length > 0) throw new ConfigError(file, problems);
}

/**
 * Parses one YAML document with bounded size, depth, aliases and plain keys.
 * Every failure, including the library's own exceptions (stack overflow,
 * alias limits), is a ConfigError naming the file.
 */
export function parseYaml(text: string, file: string): unknown {
  if (text.length > MAX_CONFIG_FILE_BYTES) {
    throw new ConfigError(file, [{ path: '', message: `the file is larger than ${MAX_CONFIG_FILE_BYTES} bytes` }]);
  }
  const lines = new LineCounter();
  try {
    checkYamlShape(text, file);
    // uniqueKeys compares every key with every other key of its map (quadratic): checkKeys does it with a set.
    const document = parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter: lines });
    if (document.errors.length > 0) {
      throw new ConfigError(
        file,
        document.errors.map((error) => ({ path: '', message: `YAML syntax error: ${yamlReason(error)}` })),
      );
    }
    checkKeys(document, file, lines);
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(file, [{ path: '', message: `YAML could not be read: ${yamlReason(error)}` }]);
  }
}

/**
 * Reads a configuration or rules file, refusing more than
 * MAX_CONFIG_FILE_BYTES (also from a pipe or device, whose size stat cannot tell).
 */
export async function readConfigText(file: string, what = 'configuration file'): Promise<string> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, MAX_CONFIG_FILE_BYTES + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_CONFIG_FILE_BYTES) throw new ConfigError(file, [{ path: '', message: `the file is larger than ${MAX_CONFIG_FILE_BYTES} bytes` }]);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new TributaryError('CONFIG_UNREADABLE', `cannot read ${what} ${file}: ${errorMessage(error)}`, { cause: error });
  } finally {
    await handle?.close();
  }
}

export async function loadConfigFile<S extends z.ZodType>(schema: S, file: string, env: NodeJS.ProcessEnv = process.env): Promise<z.output<S>> {
  return validateConfig(schema, parseYaml(await readConfigText(file), file), file, env);
}
