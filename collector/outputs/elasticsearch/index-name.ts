import type { NormalizedRecord } from '../../../shared/pipeline/record-sink.js';
import { getOwnDataKey } from '../../../shared/record/key-path.js';
import { truncateUtf8 } from '../../../shared/utf8.js';

/**
 * Where a record goes: a data stream named `<type>-<dataset>-<namespace>`
 * (Elastic's data stream naming scheme) or a dated index. Names come from
 * small templates parsed once at config time: literal text, `{resource.<key>}`
 * and `{attributes.<key>}` placeholders, and in index names the UTC date of
 * the record's timestamp (`%Y`, `%m`, `%d`, `%H`, `%%`).
 */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'field'; readonly source: 'resource' | 'attributes'; readonly key: string }
  | { readonly kind: 'date'; readonly spec: 'Y' | 'm' | 'd' | 'H' };

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
      const match = PLACEHOLDER.exec(source.slice(i + 1, end));
      if (!match) return `placeholders are {resource.<key>} or {attributes.<key>}, got "${source.slice(i, end + 1)}"`;
      flush();
      parts.push({ kind: 'field', source: match[1] as 'resource' | 'attributes', key: match[2] as string });
      i = end;
    } else if (char === '}') {
      return `unmatched "}" at position ${i}`;
    } else if (char === '%' && options.dates) {
      const spec = source.charAt(i + 1);
      if (spec === '%') text += '%';
      else if (spec === 'Y' || spec === 'm' || spec === 'd' || spec === 'H') {
        flush();
        parts.push({ kind: 'date', spec });
      } else return `unknown date field "%${spec}" (use %Y, %m, %d, %H or %%)`;
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

/** The template with every placeholder and date as `*`: the index pattern its index template matches. */
export function templatePattern(template: NameTemplate): string {
  return template.parts
    .map((part) => (part.kind === 'text' ? part.text : '*'))
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

/**
 * The UTC date and hour of a record's timestamp as `YYYY-MM-DDTHH`. The record's
 * own time (not the time of writing) so a replay on another day lands in the
 * same index, where `create` finds the earlier copy.
 */
function utcHour(record: NormalizedRecord): string {
  for (const timestamp of [record.timestamp, record.observed_timestamp]) {
    // Normalized timestamps are UTC with a `Z`; anything else goes through Date.
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:.*Z$/.test(timestamp)) return timestamp.slice(0, 13);
    const ms = Date.parse(timestamp);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString().slice(0, 13);
  }
  return '1970-01-01T00';
}

/** Renders an index name for a record; missing placeholder keys render as `unknown`. */
export function renderIndexName(template: NameTemplate, record: NormalizedRecord): string {
  let out = '';
  let hour: string | undefined;
  for (const part of template.parts) {
    if (part.kind === 'text') out += part.text;
    else if (part.kind === 'field') out += fieldValue(record, part.source, part.key) ?? 'unknown';
    else {
      hour ??= utcHour(record);
      out += part.spec === 'Y' ? hour.slice(0, 4) : part.spec === 'm' ? hour.slice(5, 7) : part.spec === 'd' ? hour.slice(8, 10) : hour.slice(11, 13);
    }
  }
  return sanitizeIndexName(out) || 'unknown';
}
