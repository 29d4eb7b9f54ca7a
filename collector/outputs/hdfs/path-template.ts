import type { NormalizedRecord } from '../../../shared/pipeline/record-sink.js';
import { getOwnDataKey } from '../../../shared/record/key-path.js';
import { formatTime, parseTimeFormat, utcMinute, type TimeToken } from '../../../shared/template/time-format.js';
import { truncateUtf8 } from '../../../shared/utf8.js';

/**
 * The directory a record's file goes to: a template such as
 * `/logs/{service.name}/dt={yyyy-MM-dd}/hr={HH}/`, parsed once at config time.
 *
 * - Field placeholders: `{resource.<key>}`, `{attributes.<key>}`, or a bare
 *   `{<key>}` (the resource's value, else the attribute's); a record without
 *   the key renders `missing` (default `unknown`).
 * - `{record.type}`: `logs` or `metrics`, by the record's schema.
 * - Time placeholders: runs of `yyyy`, `MM`, `dd`, `HH`, `mm` with `-`, `_`
 *   or `.` between them (`{yyyy-MM-dd}`, `{HH}`, `{yyyyMMdd}`), from the
 *   record's timestamp in UTC (event time, so a replay lands where the first
 *   write did); the syntax every template shares, `shared/template/time-format.ts`.
 *
 * The base path is the literal part before the first placeholder's segment;
 * every rendered directory lies below it. Values are escaped the way Hive
 * escapes partition values (`%2F` for `/`, `%3A` for `:` …; Hive and Spark
 * read them back unescaped), a value of `.` or `..` or one starting with `.`
 * or `_` (names readers skip) has those dots and underscores escaped too, and
 * a value is cut to 200 bytes: no record can name a directory outside the base
 * path, a hidden one, or one HDFS refuses.
 */
export type PathPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'field'; readonly source: 'resource' | 'attributes' | 'any'; readonly key: string }
  | { readonly kind: 'time'; readonly tokens: readonly TimeToken[] }
  /** `{record.type}`: `logs` or `metrics`. */
  | { readonly kind: 'record_type' };

/** One path segment: literal text and placeholders between two `/`. */
export type PathSegment = readonly PathPart[];

export interface PathTemplate {
  readonly source: string;
  /** The literal directory every rendered path lies in, without trailing slash ('/' for the root). */
  readonly base: string;
  /** The segments below the base, each with at least one placeholder or literal text. */
  readonly segments: readonly PathSegment[];
}

const FIELD = /^(?:(resource|attributes)\.)?([A-Za-z0-9_][A-Za-z0-9_.-]*)$/;
/** What HDFS refuses or readers misread in a literal segment. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const BAD_LITERAL = /[:\\\u0000-\u001f\u007f]/;
const MAX_VALUE_BYTES = 200;
const MAX_SEGMENT_BYTES = 250;

/** Parses a template, or returns a message saying what is wrong with it (for the config schema). */
export function parsePathTemplate(source: string): PathTemplate | string {
  if (!source.startsWith('/')) return 'must be an absolute path (start with "/")';
  const rawSegments = source.split('/').slice(1);
  // A trailing slash is allowed: '/logs/{x}/' is '/logs/{x}'.
  if (rawSegments.at(-1) === '') rawSegments.pop();
  const baseSegments: string[] = [];
  const segments: PathSegment[] = [];
  for (const [position, raw] of rawSegments.entries()) {
    if (raw === '') return `empty path segment (a "//") in "${source}"`;
    const parsed = parseSegment(raw);
    if (typeof parsed === 'string') return `segment ${position + 1} "${raw}": ${parsed}`;
    const literal = parsed.every((part) => part.kind === 'text');
    if (literal && segments.length === 0) baseSegments.push(raw);
    else segments.push(parsed);
  }
  if (segments.length === 0 && baseSegments.length === 0) return 'must name a directory below "/"';
  return { source, base: `/${baseSegments.join('/')}`, segments };
}

function parseSegment(raw: string): PathSegment | string {
  const parts: PathPart[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const char = raw.charAt(i);
    if (char === '{') {
      const end = raw.indexOf('}', i + 1);
      if (end < 0) return `unclosed "{" at position ${i}`;
      const inner = raw.slice(i + 1, end);
      flush();
      const tokens = parseTimeFormat(inner);
      if (inner === 'record.type') {
        parts.push({ kind: 'record_type' });
      } else if (tokens !== undefined) {
        parts.push({ kind: 'time', tokens });
      } else {
        const field = FIELD.exec(inner);
        if (!field) {
          return `"{${inner}}" is neither a field ({service.name}, {resource.<key>}, {attributes.<key>}) nor a time pattern of yyyy, MM, dd, HH, mm`;
        }
        parts.push({ kind: 'field', source: (field[1] as 'resource' | 'attributes' | undefined) ?? 'any', key: field[2] as string });
      }
      i = end;
    } else if (char === '}') {
      return `unmatched "}" at position ${i}`;
    } else {
      text += char;
    }
  }
  flush();
  const literal = parts.every((part) => part.kind === 'text');
  if (literal && (raw === '.' || raw === '..')) return '"." and ".." are not allowed';
  const first = parts[0];
  // Hadoop, Hive and Spark skip names starting with '_' or '.': data written there would be invisible to them.
  if (first?.kind === 'text' && /^[_.]/.test(first.text)) return 'names starting with "_" or "." are hidden from Hadoop, Hive and Spark readers';
  for (const part of parts) {
    if (part.kind === 'text' && BAD_LITERAL.test(part.text)) return `"${BAD_LITERAL.exec(part.text)?.[0] ?? ''}" is not allowed in HDFS names`;
  }
  return parts;
}

/** Characters Hive escapes in partition values (FileUtils.escapePathName), with '{', '}' as well. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const HIVE_ESCAPED = /["#%'*/:=?\\\u0000-\u001f\u007f{}[\]^]/g;

function escapeChar(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

/**
 * A record's value as one safe path segment: Hive-escaped, never `.`/`..`
 * or hidden, at most 200 bytes, never empty (`missing` instead).
 */
export function sanitizeSegmentValue(value: string, missing: string): string {
  // Every UTF-16 unit becomes at least one byte, so the first MAX_VALUE_BYTES units hold all that survives the
  // cut below: escaping only them keeps a huge value's cost constant (a lone high surrogate left at the end is dropped).
  let head = value.length > MAX_VALUE_BYTES ? value.slice(0, MAX_VALUE_BYTES) : value;
  if (head.length < value.length && /[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  let escaped = head.replace(HIVE_ESCAPED, escapeChar);
  // A leading '.' or '_' would hide the directory from readers; '.' and '..' would leave it.
  escaped = escaped.replace(/^[._]+/, (run) => run.split('').map(escapeChar).join(''));
  if (Buffer.byteLength(escaped) > MAX_VALUE_BYTES) escaped = cutUtf8(escaped, MAX_VALUE_BYTES);
  return escaped === '' ? missing : escaped;
}

/** At most `maxBytes` of UTF-8 without splitting a character or a `%XX` escape. */
function cutUtf8(text: string, maxBytes: number): string {
  return truncateUtf8(text, maxBytes).replace(/%[0-9A-F]?$/, '');
}

/**
 * A record's value by key, own keys only (shared/record/key-path.ts): a template's `{constructor}` or
 * `{__proto__}` is an attribute's name like any other, never `Object`'s function or prototype.
 */
function fieldValue(record: NormalizedRecord, source: 'resource' | 'attributes' | 'any', key: string): string | undefined {
  const fromResource = source === 'attributes' ? undefined : getOwnDataKey(record.resource, key);
  const value = fromResource ?? (source === 'resource' ? undefined : getOwnDataKey(record.attributes, key));
  return value === undefined ? undefined : String(value);
}

/** The record's event time in UTC as `YYYY-MM-DDTHH:mm` (timestamp, else observed timestamp, else the epoch). */
export function eventTime(record: NormalizedRecord): string {
  return utcMinute([record.timestamp, record.observed_timestamp]);
}

/** The record's directory: the base path plus one sanitized segment per template segment, without trailing slash. */
export function renderDirectory(template: PathTemplate, record: NormalizedRecord, missing: string): string {
  let out = template.base === '/' ? '' : template.base;
  let time: string | undefined;
  for (const segment of template.segments) {
    let rendered = '';
    for (const part of segment) {
      if (part.kind === 'text') rendered += part.text;
      else if (part.kind === 'field') rendered += sanitizeSegmentValue(fieldValue(record, part.source, part.key) ?? missing, missing);
      else if (part.kind === 'record_type') rendered += record.schema === 'tributary.metric.v1' ? 'metrics' : 'logs';
      else rendered += formatTime(part.tokens, (time ??= eventTime(record)));
    }
    // HDFS refuses names over 255 bytes (dfs.namenode.fs-limits.max-component-length).
    out += `/${Buffer.byteLength(rendered) > MAX_SEGMENT_BYTES ? cutUtf8(rendered, MAX_SEGMENT_BYTES) : rendered}`;
  }
  return out === '' ? '/' : out;
}
