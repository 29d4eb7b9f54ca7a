/**
 * The one time syntax of every name and path template (HDFS directories, Elasticsearch index names): a
 * `{…}` placeholder holding runs of `yyyy`, `MM`, `dd`, `HH`, `mm` with `-`, `_` or `.` between them
 * (`{yyyy-MM-dd}`, `{HH}`, `{yyyyMMdd}`, `{yyyy.MM.dd}`), rendered from a record's event time in UTC, so a
 * replay on another day, or on a host in another zone, lands where the first write did. Pure: templates parse
 * it once at config time and render it per record.
 */

export type TimeUnit = 'yyyy' | 'MM' | 'dd' | 'HH' | 'mm';

/** A time field, or the separator text between two. */
export type TimeToken = { readonly unit: TimeUnit } | { readonly text: string };

/** The units and separators the placeholder may hold; listed in messages. */
export const TIME_UNITS: readonly TimeUnit[] = ['yyyy', 'MM', 'dd', 'HH', 'mm'];

const TIME = /^(?:yyyy|MM|dd|HH|mm|[-_.])+$/;
const TIME_TOKEN = /yyyy|MM|dd|HH|mm|[-_.]/g;
const HAS_UNIT = /yyyy|MM|dd|HH|mm/;

function isUnit(token: string): token is TimeUnit {
  return (TIME_UNITS as readonly string[]).includes(token);
}

/**
 * The tokens of a placeholder's inner text (what is between `{` and `}`), or undefined when it is not a time
 * pattern (a template then reads it as a field name). Separators alone (`{-}`) are not a time pattern.
 */
export function parseTimeFormat(inner: string): readonly TimeToken[] | undefined {
  if (!TIME.test(inner) || !HAS_UNIT.test(inner)) return undefined;
  return (inner.match(TIME_TOKEN) ?? []).map((token): TimeToken => (isUnit(token) ? { unit: token } : { text: token }));
}

/** A fixed-width UTC minute, `YYYY-MM-DDTHH:mm`: every unit is a slice of it. */
export type UtcMinute = string;

/**
 * The UTC minute of the first of `timestamps` that is a time: an RFC 3339 UTC timestamp (what normalization
 * produces) is sliced as it is; anything else goes through `Date.parse` and is converted to UTC. A time outside
 * the years 0000–9999 counts as unreadable: its ISO form (`+010000-…`) has no four-digit year to slice. None:
 * the epoch.
 */
export function utcMinute(timestamps: Iterable<string>): UtcMinute {
  for (const timestamp of timestamps) {
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*Z$/.test(timestamp)) return timestamp.slice(0, 16);
    const ms = Date.parse(timestamp);
    if (Number.isNaN(ms)) continue;
    const iso = new Date(ms).toISOString();
    if (/^\d{4}-/.test(iso)) return iso.slice(0, 16);
  }
  return '1970-01-01T00:00';
}

const UNIT_SLICE: Readonly<Record<TimeUnit, readonly [number, number]>> = {
  yyyy: [0, 4],
  MM: [5, 7],
  dd: [8, 10],
  HH: [11, 13],
  mm: [14, 16],
};

/** The tokens rendered for one UTC minute (from `utcMinute`). */
export function formatTime(tokens: readonly TimeToken[], minute: UtcMinute): string {
  let out = '';
  for (const token of tokens) {
    if ('text' in token) out += token.text;
    else out += minute.slice(...UNIT_SLICE[token.unit]);
  }
  return out;
}

/** The tokens as an index or glob pattern: every unit a `*`, separators kept (`{yyyy.MM.dd}` → `*.*.*`). */
export function timePattern(tokens: readonly TimeToken[]): string {
  return tokens.map((token) => ('text' in token ? token.text : '*')).join('');
}
