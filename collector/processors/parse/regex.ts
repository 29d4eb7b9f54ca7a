import { applyFieldMapping, ParserConfigError, resolveFieldMapping, type ExtractedValues, type FieldMappingOptions } from './field-mapping.js';
import { catastrophicBacktrackingProblem } from '../regex-safety.js';
import { GROK_PATTERNS, grokPatternNames } from './grok-patterns.js';
import type { LineParser, ParseResult } from './types.js';

export interface RegexParserOptions extends FieldMappingOptions {
  /**
   * A JavaScript regular expression (no flags, unanchored unless it says
   * `^…$`). Named groups `(?<name>…)` and grok references `%{NAME}`,
   * `%{NAME:field}`, `%{NAME:field:int|float}` become fields. Field names may
   * contain dots (`url.path`) and `@`. Write `%\{` for a literal `%{`.
   */
  pattern: string;
}

/** How a capture is converted: grok's `:int` / `:float` suffixes; strings otherwise. */
type Conversion = 'string' | 'int' | 'float';

interface Capture {
  field: string;
  conversion: Conversion;
}

/** The compiled form of a pattern: the RegExp plus, per internal group name, the user's field. */
export interface CompiledPattern {
  regex: RegExp;
  captures: ReadonlyMap<string, Capture>;
}

/**
 * Parses lines with a regular expression. Every capture gets an internal
 * group name (`f0`, `f1`…) because JavaScript group names must be
 * identifiers, while log fields are dotted (`http.request.method`); the map
 * back to the user's names lives beside the RegExp. The same field may be
 * captured by several alternatives (`(?:%{IPV6:client}|%{HOSTNAME:client})`);
 * the first that participated wins.
 *
 * The pattern runs once per line on untrusted input: a pattern with nested
 * unbounded quantifiers can backtrack catastrophically. Prefer anchors and
 * specific patterns over `.*` chains.
 */
export function createRegexParser(options: RegexParserOptions): LineParser {
  const compiled = compileRegexPattern(options.pattern);
  const mapping = resolveFieldMapping(options);
  const { regex, captures } = compiled;

  return {
    name: 'regex',
    parse(line: string): ParseResult {
      const match = regex.exec(line);
      if (match === null) return { ok: false, error: 'line does not match the pattern' };
      const values: ExtractedValues = new Map();
      const groups = match.groups ?? {};
      for (const [group, capture] of captures) {
        const value = groups[group];
        if (value === undefined || values.has(capture.field)) continue;
        values.set(capture.field, convert(value, capture.conversion));
      }
      return { ok: true, fields: applyFieldMapping(values, mapping) };
    },
  };
}

/** Expands grok references and renames groups; throws ParserConfigError (key `pattern`) on any mistake. */
export function compileRegexPattern(pattern: string): CompiledPattern {
  // The user's own structure, each grok reference summarised by the characters its library pattern consumes (13.8).
  const backtracking = catastrophicBacktrackingProblem(pattern, '', resolveLibraryPattern);
  if (backtracking !== undefined) throw new ParserConfigError('pattern', backtracking);
  const captures = new Map<string, Capture>();
  const firstGroupOf = new Map<string, string>();
  const addCapture = (field: string, conversion: Conversion): string => {
    if (!FIELD_NAME.test(field)) {
      throw new ParserConfigError('pattern', `invalid field name "${field}" (letters, digits, "_", "@", "-" and dots between them)`);
    }
    const group = `f${captures.size}`;
    captures.set(group, { field, conversion });
    if (!firstGroupOf.has(field)) firstGroupOf.set(field, group);
    return group;
  };

  let source = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern.charAt(i);
    if (ch === '\\') {
      // `\k<name>` is a backreference to a named group: point it at the internal name.
      if (pattern.charAt(i + 1) === 'k' && pattern.charAt(i + 2) === '<') {
        const end = pattern.indexOf('>', i + 3);
        const field = end === -1 ? '' : pattern.slice(i + 3, end);
        const group = firstGroupOf.get(field);
        if (group === undefined) throw new ParserConfigError('pattern', `backreference \\k<${field}> does not follow a group named "${field}"`);
        source += `\\k<${group}>`;
        i = end + 1;
        continue;
      }
      source += pattern.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (ch === '[') {
      // A character class is copied verbatim: `(`, `%{` and `]` after `\` mean nothing special inside it.
      const end = classEnd(pattern, i);
      source += pattern.slice(i, end);
      i = end;
      continue;
    }
    if (pattern.startsWith('(?<', i) && pattern.charAt(i + 3) !== '=' && pattern.charAt(i + 3) !== '!') {
      const end = pattern.indexOf('>', i + 3);
      if (end === -1) throw new ParserConfigError('pattern', `unterminated group name at position ${i + 1}`);
      source += `(?<${addCapture(pattern.slice(i + 3, end), 'string')}>`;
      i = end + 1;
      continue;
    }
    if (pattern.startsWith('%{', i)) {
      const end = pattern.indexOf('}', i + 2);
      const reference = end === -1 ? undefined : GROK_REFERENCE.exec(pattern.slice(i + 2, end));
      if (end === -1 || reference === null || reference === undefined) {
        throw new ParserConfigError(
          'pattern',
          `malformed grok reference at position ${i + 1}: expected %{NAME}, %{NAME:field} or %{NAME:field:int|float} (write %\\{ for a literal "%{")`,
        );
      }
      const [, name = '', field, type] = reference;
      const expanded = expandLibraryPattern(name, []);
      if (field === undefined) {
        source += `(?:${expanded})`;
      } else {
        if (type !== undefined && type !== 'int' && type !== 'float') {
          throw new ParserConfigError('pattern', `unknown conversion "${type}" in %{${name}:${field}:${type}} (expected int or float)`);
        }
        source += `(?<${addCapture(field, type ?? 'string')}>${expanded})`;
      }
      i = end + 1;
      continue;
    }
    source += ch;
    i++;
  }

  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch (error) {
    // V8's message repeats the whole expanded source ("Invalid regular expression: /…/: reason"); keep the reason.
    const message = error instanceof Error ? error.message : String(error);
    throw new ParserConfigError('pattern', `invalid regular expression: ${message.slice(message.lastIndexOf(': ') + 2)}`);
  }
  return { regex, captures };
}

/** Field names: dotted segments of word characters, `@` and `-` (`@timestamp`, `http.request.method`). */
const FIELD_NAME = /^[\w@-]+(?:\.[\w@-]+)*$/;
const GROK_REFERENCE = /^([A-Za-z0-9_]+)(?::([^:}]+))?(?::([^:}]+))?$/;

const expandedCache = new Map<string, string>();

/** A library pattern's expanded source for the backtracking check; undefined for a name the library lacks. */
export function resolveLibraryPattern(name: string): string | undefined {
  if (!GROK_PATTERNS.has(name)) return undefined;
  return expandLibraryPattern(name, []);
}

/** Recursively expands a library pattern; `stack` detects cycles (a bug in the library, reported all the same). */
function expandLibraryPattern(name: string, stack: readonly string[]): string {
  const cached = expandedCache.get(name);
  if (cached !== undefined) return cached;
  const body = GROK_PATTERNS.get(name);
  if (body === undefined) {
    const hint = stack.length === 0 ? '' : ` (referenced from ${stack.join(' → ')})`;
    throw new ParserConfigError('pattern', `unknown grok pattern %{${name}}${hint}; known patterns: ${grokPatternNames().join(', ')}`);
  }
  if (stack.includes(name)) throw new ParserConfigError('pattern', `grok pattern %{${name}} refers to itself (${[...stack, name].join(' → ')})`);
  const expanded = body.replace(/%\{([A-Za-z0-9_]+)\}/g, (_whole, inner: string) => `(?:${expandLibraryPattern(inner, [...stack, name])})`);
  expandedCache.set(name, expanded);
  return expanded;
}

/** Index just past the `]` closing the class opened at `start` (or the end of the pattern, which RegExp then rejects). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern.charAt(i) === '^') i++;
  while (i < pattern.length) {
    const ch = pattern.charAt(i);
    if (ch === '\\') i += 2;
    else if (ch === ']') return i + 1;
    else i++;
  }
  return pattern.length;
}

/** `:int`/`:float` give numbers when the text is one; otherwise the text is kept rather than lost. */
function convert(value: string, conversion: Conversion): string | number {
  if (conversion === 'int' && /^[+-]?\d+$/.test(value)) {
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : value;
  }
  if (conversion === 'float' && value.trim() !== '') {
    const number = Number(value);
    return Number.isFinite(number) ? number : value;
  }
  return value;
}
