/**
 * Timestamp parsing for the parse processors: turns the many ways log lines
 * write time into one RFC 3339 UTC string (`YYYY-MM-DDTHH:mm:ss.sssZ`).
 *
 * Design notes:
 * - All calendar arithmetic is done on plain integers (days from the civil
 *   calendar, H. Hinnant's algorithm), never through `Date.UTC`, which maps
 *   years 0–99 to 1900–1999 and cannot carry sub-millisecond digits.
 * - Fractions are kept as the digit string the input had, so a 9-digit
 *   nanosecond fraction survives (`.123456789Z`); fewer than 3 digits are
 *   padded to milliseconds (`.5` → `.500`).
 * - Time zones are resolved with `Intl.DateTimeFormat` (no dependency). A
 *   local time that does not exist (spring-forward gap) is moved forward by
 *   the gap, an ambiguous one (fall-back overlap) takes the earlier instant:
 *   the same choice as java.time's `ZonedDateTime.of`.
 *
 * Explicit formats use java.time DateTimeFormatter letters (yyyy/uuuu, yy,
 * M/MM/MMM/MMMM, d/dd, H/HH, h/hh + a, m/mm, s/ss, S…S, n, X/x/Z offsets, VV
 * zone ids, z for UTC names, E day names, 'literal'); the table with what each
 * reads is in collector/processors/README.md and TIMESTAMP_FORMAT_TOKENS.
 *
 * Any other ASCII letter is an error (reserved), any other character is a
 * literal. Named shortcuts: `rfc3339` (alias `iso8601`), `rfc3164` (alias
 * `syslog`), `common_log`, `unix`, `unix_ms`, `unix_us`, `unix_ns`.
 *
 * Files: this one is the API and the resolution of year and zone;
 * `timestamp-formats.ts` the built-in shapes and auto-detection;
 * `timestamp-pattern.ts` the pattern language; `civil-time.ts` the calendar
 * and zone arithmetic.
 */

import { DAY, daysFromCivil, daysInMonth, formatUtc, localToUtc, parseFixedOffset, zoneFormatter } from './civil-time.js';
import { NAMED_FORMATS, autoDetect, type EpochTime, type Matcher, type RawTime } from './timestamp-formats.js';
import { compilePattern } from './timestamp-pattern.js';

export { TIMESTAMP_FORMAT_TOKENS } from './timestamp-pattern.js';

export interface TimestampOptions {
  /** Explicit format; when absent, common formats are recognised automatically. */
  format?: string;
  /** IANA zone (e.g. 'Europe/Berlin') or fixed offset ('+02:00') for times that carry no offset; default 'UTC'. */
  timezone?: string;
  /** For formats without a year (syslog "Jun 14 15:16:01"): the year is chosen so the time is not more than ~1 day in the future of this instant (default: now). */
  referenceTime?: Date;
}

/**
 * Parses `value` into RFC 3339 UTC, or returns undefined when it cannot be
 * parsed (never throws, also not for an unknown format or time zone).
 */
export function parseTimestamp(value: string | number, options: TimestampOptions = {}): string | undefined {
  const text = typeof value === 'number' ? numberToText(value) : value.trim();
  if (text === undefined || text === '') return undefined;

  let parsed: RawTime | EpochTime | undefined;
  if (options.format === undefined || options.format === 'auto') {
    parsed = autoDetect(text);
  } else {
    const matcher = matcherFor(options.format);
    if (matcher === undefined) return undefined;
    parsed = matcher(text);
  }
  if (parsed === undefined) return undefined;
  if ('epochSeconds' in parsed) return formatUtc(parsed.epochSeconds, parsed.fraction);
  return resolve(parsed, options);
}

/**
 * Checks a `format` option at config time: returns an error message, or
 * undefined when the format is usable.
 */
export function validateTimestampFormat(format: string): string | undefined {
  if (format === 'auto' || NAMED_FORMATS.has(format)) return undefined;
  const compiled = compilePattern(format);
  return typeof compiled === 'string' ? compiled : undefined;
}

/** Checks a `timezone` option at config time: returns an error message, or undefined when usable. */
export function validateTimezone(timezone: string): string | undefined {
  if (parseFixedOffset(timezone) !== undefined) return undefined;
  return zoneFormatter(timezone) === undefined ? `unknown time zone "${timezone}"` : undefined;
}

const compiledCache = new Map<string, Matcher | undefined>();

function matcherFor(format: string): Matcher | undefined {
  const named = NAMED_FORMATS.get(format);
  if (named !== undefined) return named;
  if (compiledCache.has(format)) return compiledCache.get(format);
  const compiled = compilePattern(format);
  const matcher = typeof compiled === 'string' ? undefined : compiled;
  if (compiledCache.size > 256) compiledCache.clear(); // formats come from config; this only bounds abuse
  compiledCache.set(format, matcher);
  return matcher;
}

function resolve(raw: RawTime, options: TimestampOptions): string | undefined {
  if (raw.month < 1 || raw.month > 12 || raw.hour > 23 || raw.minute > 59 || raw.second > 60) return undefined;
  if (Number.isNaN(raw.offsetSeconds)) return undefined;
  // A leap second (RFC 3339 §5.7 allows :60) is folded into the next second; JS time has no leap seconds.
  const localSeconds = (year: number): number => daysFromCivil(year, raw.month, raw.day) * DAY + raw.hour * 3600 + raw.minute * 60 + raw.second;

  const toUtc = (year: number): number | undefined => {
    if (raw.day < 1 || raw.day > daysInMonth(year, raw.month)) return undefined;
    const local = localSeconds(year);
    if (raw.offsetSeconds !== undefined) return local - raw.offsetSeconds;
    return localToUtc(local, raw.zone ?? options.timezone ?? 'UTC');
  };

  let utc: number | undefined;
  if (raw.year !== undefined) {
    utc = toUtc(raw.year);
  } else {
    // RFC 3164 timestamps carry no year. Pick the latest year that does not put
    // the event more than a day after the reference instant (clock skew slack),
    // so a "Dec 31" line read on Jan 1 lands in the previous year. Feb 29 may
    // need to go back several years to the last leap year.
    const reference = options.referenceTime ?? new Date();
    const refSeconds = Math.floor(reference.getTime() / 1000);
    if (!Number.isFinite(refSeconds)) return undefined;
    const refYear = reference.getUTCFullYear();
    for (let year = refYear + 1; year >= refYear - 8; year--) {
      const candidate = toUtc(year);
      if (candidate !== undefined && candidate <= refSeconds + DAY) {
        utc = candidate;
        break;
      }
    }
  }
  if (utc === undefined) return undefined;
  return formatUtc(utc, raw.fraction);
}

/** Numbers become their plain decimal text; NaN, infinities, negatives and exponent forms are rejected. */
function numberToText(value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined;
  const text = Number.isInteger(value) ? BigInt(value).toString() : String(value);
  return /^\d+(?:\.\d+)?$/.test(text) ? text : undefined;
}
