import { applyFieldMapping, resolveFieldMapping, type ExtractedValues, type FieldMappingOptions } from './field-mapping.js';
import type { LineParser, ParseResult } from './types.js';

export type LogfmtParserOptions = FieldMappingOptions;

/**
 * Parses logfmt (`ts=… level=info msg="hello \"you\"" cached`), as written by
 * go-kit/log, logrus' text formatter, Heroku and Grafana's own components.
 *
 * Grammar, following go-logfmt's decoder with two deliberate differences:
 * - pairs are separated by spaces/tabs; a key is any run of characters other
 *   than space, `=` and `"`; a bare key (no `=`) means `true`; `key=` is the
 *   empty string;
 * - a quoted value understands the Go/JSON escapes `\" \\ \/ \n \r \t \b \f \uXXXX`;
 * - difference 1: an unquoted value may contain `=` (URLs with query strings
 *   are common in practice and unambiguous, since the value ends at a space);
 * - difference 2: a line with no `key=value` pair at all is rejected: plain
 *   prose would otherwise "parse" as a list of bare keys.
 * Values stay strings: logfmt is untyped and "007" or a 20-digit id must not
 * be turned into numbers. A repeated key keeps its last value.
 */
export function createLogfmtParser(options: LogfmtParserOptions = {}): LineParser {
  const mapping = resolveFieldMapping(options);
  return {
    name: 'logfmt',
    parse(line: string): ParseResult {
      const scanned = scanLogfmt(line);
      if (typeof scanned === 'string') return { ok: false, error: scanned };
      return { ok: true, fields: applyFieldMapping(scanned, mapping) };
    },
  };
}

/** Returns the pairs in order, or an error message naming the column (1-based). */
export function scanLogfmt(line: string): ExtractedValues | string {
  const values: ExtractedValues = new Map();
  let pairs = 0;
  let i = 0;
  const n = line.length;
  const isSpace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

  while (i < n) {
    while (i < n && isSpace(line.charAt(i))) i++;
    if (i >= n) break;

    const keyStart = i;
    while (i < n && !isSpace(line.charAt(i)) && line.charAt(i) !== '=' && line.charAt(i) !== '"') i++;
    const key = line.slice(keyStart, i);
    if (key === '') {
      return line.charAt(i) === '"' ? `unexpected '"' at column ${i + 1} (keys cannot be quoted)` : `missing key before '=' at column ${i + 1}`;
    }
    if (i >= n || isSpace(line.charAt(i))) {
      values.set(key, true);
      continue;
    }
    if (line.charAt(i) === '"') return `unexpected '"' in key at column ${i + 1}`;

    i++; // '='
    pairs++;
    if (line.charAt(i) === '"') {
      const quoted = readQuoted(line, i);
      if (typeof quoted === 'string') return quoted;
      values.set(key, quoted.value);
      i = quoted.end;
      if (i < n && !isSpace(line.charAt(i))) return `unexpected ${JSON.stringify(line.charAt(i))} after closing quote at column ${i + 1}`;
      continue;
    }
    const valueStart = i;
    while (i < n && !isSpace(line.charAt(i))) {
      if (line.charAt(i) === '"') return `unexpected '"' inside unquoted value at column ${i + 1}`;
      i++;
    }
    values.set(key, line.slice(valueStart, i));
  }

  if (pairs === 0) return values.size === 0 ? 'empty line' : 'no key=value pairs (not logfmt)';
  return values;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };

/** Reads `"…"` starting at the opening quote; `end` is the index after the closing quote. */
function readQuoted(line: string, start: number): { value: string; end: number } | string {
  let out = '';
  let i = start + 1;
  while (i < line.length) {
    const ch = line.charAt(i);
    if (ch === '"') return { value: out, end: i + 1 };
    if (ch !== '\\') {
      out += ch;
      i++;
      continue;
    }
    const next = line.charAt(i + 1);
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      i += 2;
      continue;
    }
    if (next === 'u') {
      const hex = line.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) return `invalid \\u escape at column ${i + 1}`;
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 6;
      continue;
    }
    return next === '' ? `unterminated quoted value starting at column ${start + 1}` : `invalid escape \\${next} at column ${i + 1}`;
  }
  return `unterminated quoted value starting at column ${start + 1}`;
}
