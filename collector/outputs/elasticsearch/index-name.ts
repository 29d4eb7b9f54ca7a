import type { NormalizedRecord } from '../../../shared/pipeline/record-sink.js';
import { getOwnDataKey } from '../../../shared/record/key-path.js';
import { formatTime, parseTimeFormat, timePattern, utcMinute, type TimeToken, type TimeUnit } from '../../../shared/template/time-format.js';
import { truncateUtf8 } from '../../../shared/utf8.js';

/**
 * Where a record goes: a data stream named `<type>-<dataset>-<namespace>`
 * (Elastic's data stream naming scheme) or a dated index. Names come from
 * small templates parsed once at config time: literal text, `{resource.<key>}`
 * and `{attributes.<key>}` placeholders, and in index names the UTC time of
 * the record's timestamp as every template writes it (`{yyyy.MM.dd}`,
 * `{HH}`: `shared/template/time-format.ts`). The strftime-like `%Y`, `%m`,
 * `%d`, `%H` (and `%%` for `%`) of earlier releases are still read, as the
 * same time fields, so an existing config keeps its index names; they are
 * deprecated.
 */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'field'; readonly source: 'resource' | 'attributes'; readonly key: string }
  | { readonly kind: 'time'; readonly tokens: readonly TimeToken[] };

export interface NameTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** No placeholders and no dates: rendered once. */
  readonly constant: boolean;
}

/** Characters Elasticsearch refuses in index and data stream names, plus `:` (remote cluster separator). */
const FORBIDDEN = /[\\/*?"<>| ,#:]/g;
/** The data stream naming scheme also keeps `-` out of dataset and namespace, as the reroute processor does. */
const FORBIDDEN_IN_PART = /[\\/*?"<>| ,#:-]/g;
const PLACEHOLDER = /^(resource|attributes)\.(.+)$/;
/** The deprecated `%` fields, as the time units they always meant. */
const PERCENT_FIELDS: Readonly<Record<string, TimeUnit>> = { Y: 'yyyy', m: 'MM', d: 'dd', H: 'HH' };

/** Parses a template, or returns a message saying what is wrong with it (for the config schema). */
export function parseNameTemplate(source: string, options: { dates: boolean }): NameTemplate | string {
  const parts: TemplatePart[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < source.length; i++) {
    const char = source.charAt(i);
    if (char === '{') {
      const end = source.indexOf('}', i + 1);
      if (end < 0) return `unclosed "{" at position ${i}`;
      const inner = source.slice(i + 1, end);
      const match = PLACEHOLDER.exec(inner);
      const tokens = options.dates ? parseTimeFormat(inner) : undefined;
      if (!match && tokens === undefined) {
        const time = options.dates ? ', or a time such as {yyyy.MM.dd} (yyyy, MM, dd, HH, mm with - _ . between)' : '';
        return `placeholders are {resource.<key>} or {attributes.<key>}${time}, got "${source.slice(i, end + 1)}"`;
      }
      flush();
      if (match) parts.push({ kind: 'field', source: match[1] as 'resource' | 'attributes', key: match[2] as string });
      else if (tokens !== undefined) parts.push({ kind: 'time', tokens });
      i = end;
    } else if (char === '}') {
      return `unmatched "}" at position ${i}`;
    } else if (char === '%' && options.dates) {
      const spec = source.charAt(i + 1);
      const unit = Object.hasOwn(PERCENT_FIELDS, spec) ? PERCENT_FIELDS[spec] : undefined;
      if (spec === '%') text += '%';
      else if (unit !== undefined) {
        flush();
        parts.push({ kind: 'time', tokens: [{ unit }] });
      } else return `unknown date field "%${spec}" (write times as {yyyy.MM.dd}; the deprecated %Y, %m, %d, %H and %% are still read)`;
      i++;
    } else {
      text += char;
    }
  }
  flush();
  for (const part of parts) {
    if (part.kind !== 'text') continue;
    if (part.text !== part.text.toLowerCase()) return `names must be lowercase, got "${part.text}"`;
    const bad = part.text.match(FORBIDDEN);
    if (bad) return `"${bad[0]}" is not allowed in index names`;
  }
  if (parts.length === 0) return 'must not be empty';
  return { source, parts, constant: parts.every((part) => part.kind === 'text') };
}

/**
 * The template with every placeholder and time field as `*` (separators inside a time placeholder kept, so
 * `{yyyy.MM.dd}` and `%Y.%m.%d` give the same pattern): the index pattern its index template matches.
 */
export function templatePattern(template: NameTemplate): string {
  return template.parts
    .map((part) => (part.kind === 'text' ? part.text : part.kind === 'time' ? timePattern(part.tokens) : '*'))
    .join('')
    .replace(/\*+/g, '*');
}

/** Own keys only: `{resource.constructor}` must not render `Object`'s source for a record without that key. */
function fieldValue(record: NormalizedRecord, source: 'resource' | 'attributes', key: string): string | undefined {
  const value = source === 'resource' ? getOwnDataKey(record.resource, key) : getOwnDataKey(record.attributes, key);
  return value === undefined ? undefined : String(value);
}

/**
 * A dataset or namespace as Elasticsearch's reroute processor sanitizes them:
 * lowercase, forbidden characters and `-` replaced by `_`, at most 100 bytes.
 */
export function sanitizeStreamPart(value: string): string {
  return truncateUtf8(value.toLowerCase().replace(FORBIDDEN_IN_PART, '_'), 100);
}

/** An index name Elasticsearch accepts: lowercase, no forbidden characters, not starting with `-`, `_`, `+` or `.`, at most 255 bytes. */
export function sanitizeIndexName(value: string): string {
  return truncateUtf8(
    value
      .toLowerCase()
      .replace(FORBIDDEN, '_')
      .replace(/^[-_+.]+/, ''),
    255,
  );
}

/**
 * Renders a dataset or namespace for a record. A placeholder whose key the
 * record lacks renders as `fallback` ('generic' for datasets, 'default' for
 * namespaces), and so does a result that sanitizes to nothing.
 */
export function renderStreamPart(template: NameTemplate, record: NormalizedRecord, fallback: string): string {
  let out = '';
  for (const part of template.parts) {
    if (part.kind === 'text') out += part.text;
    else if (part.kind === 'field') out += fieldValue(record, part.source, part.key) ?? fallback;
  }
  const sanitized = sanitizeStreamPart(out);
  return sanitized.replace(/_/g, '') === '' ? fallback : sanitized;
}

/** Renders an index name for a record; missing placeholder keys render as `unknown`. */
export function renderIndexName(template: NameTemplate, record: NormalizedRecord): string {
  let out = '';
  let minute: string | undefined;
  for (const part of template.parts) {
    if (part.kind === 'text') out += part.text;
    else if (part.kind === 'field') out += fieldValue(record, part.source, part.key) ?? 'unknown';
    // The record's own time, never the time of writing: a replay on another day lands in the same index,
    // where `create` finds the earlier copy.
    else out += formatTime(part.tokens, (minute ??= utcMinute([record.timestamp, record.observed_timestamp])));
  }
  return sanitizeIndexName(out) || 'unknown';
}
