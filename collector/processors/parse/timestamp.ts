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
 */

export interface TimestampOptions {
  /** Explicit format; when absent, common formats are recognised automatically. */
  format?: string;
  /** IANA zone (e.g. 'Europe/Berlin') or fixed offset ('+02:00') for times that carry no offset; default 'UTC'. */
  timezone?: string;
  /** For formats without a year (syslog "Jun 14 15:16:01"): the year is chosen so the time is not more than ~1 day in the future of this instant (default: now). */
  referenceTime?: Date;
}

/** What a matcher read from the text, before zone and year are resolved. */
interface RawTime {
  /** Absent for yearless formats (RFC 3164 syslog). */
  year?: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction digits as written (may be ''). */
  fraction: string;
  /** Offset east of UTC in seconds, when the text carried one. */
  offsetSeconds?: number;
  /** An IANA zone named in the text (`VV`), used when there is no offset. */
  zone?: string;
}

/** An already-absolute instant (epoch input). */
interface EpochTime {
  epochSeconds: number;
  fraction: string;
}

type Matcher = (text: string) => RawTime | EpochTime | undefined;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_RE =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const DAY_NAME_RE = '(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*';
const OFFSET_RE = '(?:[zZ]|[+-]\\d{2}(?::?\\d{2})?)';

// ---------------------------------------------------------------------------
// Public API

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

// ---------------------------------------------------------------------------
// Named formats and auto-detection

/** RFC 3339 / ISO 8601: `T` or space, `.` or `,` fraction (ISO 8601 §4.2.2.4 allows both), optional offset. */
const ISO_RE = new RegExp(`^(\\d{4})([-/])(\\d{2})\\2(\\d{2})(?:[Tt ](\\d{2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d{1,9}))?)?)?\\s?(${OFFSET_RE}|UTC|GMT)?$`);
/** RFC 3164 §4.1.2: `Mmm dd hh:mm:ss`, a single-digit day padded with a space. Fraction and year accepted (rsyslog high-precision, Cisco). */
const SYSLOG_RE = new RegExp(`^(${MONTH_RE}) +(\\d{1,2})(?: (\\d{4}))? (\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?$`, 'i');
/** NCSA Common Log Format: `10/Oct/2000:13:55:36 -0700`. */
const CLF_RE = new RegExp(`^(\\d{1,2})/(${MONTH_RE})/(\\d{4}):(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))? ?(${OFFSET_RE})?$`, 'i');
/** C `asctime()` as written by Apache's error log: `Sun Dec 04 04:47:44 2005`, 2.4 adds microseconds. */
const ASCTIME_RE = new RegExp(`^${DAY_NAME_RE} (${MONTH_RE}) +(\\d{1,2}) (\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))? (\\d{4})$`, 'i');
/** RFC 5322 §3.3 / RFC 9110 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const RFC2822_RE = new RegExp(`^(?:${DAY_NAME_RE}, ?)?(\\d{1,2}) (${MONTH_RE}) (\\d{4}) (\\d{2}):(\\d{2})(?::(\\d{2}))? (${OFFSET_RE}|UTC|GMT|UT)$`, 'i');
/** Two-digit-year dates as log4j's `yy/MM/dd HH:mm:ss` default in Spark writes them. */
const YY_SLASH_RE = /^(\d{2})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/;
/**
 * At most 21 integer digits: the largest usable epoch (9999-12-31 in
 * nanoseconds) has 21, and BigInt() of a longer digit run is quadratic in its
 * length (a 128 K-digit "time" took seconds).
 */
const EPOCH_RE = /^(\d{1,21})(?:\.(\d+))?$/;

const matchIso: Matcher = (text) => {
  const m = ISO_RE.exec(text);
  if (m === null) return undefined;
  return {
    year: int(m[1]),
    month: int(m[3]),
    day: int(m[4]),
    hour: int(m[5]),
    minute: int(m[6]),
    second: int(m[7]),
    fraction: m[8] ?? '',
    offsetSeconds: m[9] === undefined ? undefined : parseOffset(m[9]),
  };
};

const matchSyslog: Matcher = (text) => {
  const m = SYSLOG_RE.exec(text);
  if (m === null) return undefined;
  return {
    year: m[3] === undefined ? undefined : int(m[3]),
    month: monthNumber(m[1]),
    day: int(m[2]),
    hour: int(m[4]),
    minute: int(m[5]),
    second: int(m[6]),
    fraction: m[7] ?? '',
  };
};

const matchClf: Matcher = (text) => {
  const m = CLF_RE.exec(text);
  if (m === null) return undefined;
  return {
    year: int(m[3]),
    month: monthNumber(m[2]),
    day: int(m[1]),
    hour: int(m[4]),
    minute: int(m[5]),
    second: int(m[6]),
    fraction: m[7] ?? '',
    offsetSeconds: m[8] === undefined ? undefined : parseOffset(m[8]),
  };
};

const matchAsctime: Matcher = (text) => {
  const m = ASCTIME_RE.exec(text);
  if (m === null) return undefined;
  return {
    year: int(m[7]),
    month: monthNumber(m[1]),
    day: int(m[2]),
    hour: int(m[3]),
    minute: int(m[4]),
    second: int(m[5]),
    fraction: m[6] ?? '',
  };
};

const matchRfc2822: Matcher = (text) => {
  const m = RFC2822_RE.exec(text);
  if (m === null) return undefined;
  return {
    year: int(m[3]),
    month: monthNumber(m[2]),
    day: int(m[1]),
    hour: int(m[4]),
    minute: int(m[5]),
    second: int(m[6]),
    fraction: '',
    offsetSeconds: parseOffset(m[7] ?? 'Z'),
  };
};

const matchYySlash: Matcher = (text) => {
  const m = YY_SLASH_RE.exec(text);
  if (m === null) return undefined;
  return {
    year: pivotYear(int(m[1])),
    month: int(m[2]),
    day: int(m[3]),
    hour: int(m[4]),
    minute: int(m[5]),
    second: int(m[6]),
    fraction: m[7] ?? '',
  };
};

/** Epoch with a fixed unit: `scale` is the number of decimal digits below one second (0 s, 3 ms, 6 µs, 9 ns). */
function epochMatcher(scale: number): Matcher {
  return (text) => {
    const m = EPOCH_RE.exec(text);
    if (m === null) return undefined;
    const intDigits = m[1] ?? '';
    const fracDigits = m[2] ?? '';
    // BigInt so 19-digit nanosecond values keep every digit.
    const total = BigInt(intDigits);
    const unit = 10n ** BigInt(scale);
    const seconds = total / unit;
    const below = scale === 0 ? '' : (total % unit).toString().padStart(scale, '0');
    if (seconds > BigInt(MAX_EPOCH_SECONDS)) return undefined;
    return { epochSeconds: Number(seconds), fraction: (below + fracDigits).slice(0, 9) };
  };
}

/**
 * Bare epoch numbers in auto mode: the unit is guessed from the magnitude.
 * Below 1e11 is seconds (up to year 5138), below 1e14 milliseconds, below
 * 1e17 microseconds, else nanoseconds; every current timestamp is unambiguous.
 */
const matchEpochAuto: Matcher = (text) => {
  const m = EPOCH_RE.exec(text);
  if (m === null) return undefined;
  const intDigits = (m[1] ?? '').replace(/^0+(?=\d)/, '');
  const scale = intDigits.length <= 11 ? 0 : intDigits.length <= 14 ? 3 : intDigits.length <= 17 ? 6 : 9;
  return epochMatcher(scale)(text);
};

const NAMED_FORMATS = new Map<string, Matcher>([
  ['rfc3339', matchIso],
  ['iso8601', matchIso],
  ['rfc3164', matchSyslog],
  ['syslog', matchSyslog],
  ['common_log', matchClf],
  ['unix', epochMatcher(0)],
  ['unix_ms', epochMatcher(3)],
  ['unix_us', epochMatcher(6)],
  ['unix_ns', epochMatcher(9)],
]);

/** Order matters only for speed: the shapes are disjoint. */
const AUTO_MATCHERS: readonly Matcher[] = [matchIso, matchSyslog, matchClf, matchAsctime, matchYySlash, matchRfc2822, matchEpochAuto];

function autoDetect(text: string): RawTime | EpochTime | undefined {
  for (const matcher of AUTO_MATCHERS) {
    const parsed = matcher(text);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
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

// ---------------------------------------------------------------------------
// Pattern language

type Setter = (raw: Partial<RawTime> & { pm?: boolean; hour12?: number }, s: string) => void;

/** Compiles a Joda-like pattern to a matcher, or returns an error message. */
function compilePattern(format: string): Matcher | string {
  let source = '^';
  const setters: (Setter | undefined)[] = [];
  let i = 0;
  while (i < format.length) {
    const ch = format.charAt(i);
    if (ch === "'") {
      const end = format.indexOf("'", i + 1);
      if (end === -1) return `unterminated quote in timestamp format "${format}"`;
      source += escapeRegExp(end === i + 1 ? "'" : format.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (ch === ' ') {
      while (format.charAt(i) === ' ') i++;
      source += ' +';
      continue;
    }
    if (!/[A-Za-z]/.test(ch)) {
      source += escapeRegExp(ch);
      i++;
      continue;
    }
    let n = 1;
    while (format.charAt(i + n) === ch) n++;
    const token = ch.repeat(n);
    i += n;
    const field = patternToken(token);
    if (field === undefined) {
      return `unknown token "${token}" in timestamp format "${format}" (valid tokens: ${TIMESTAMP_FORMAT_TOKENS.join(', ')}; put other letters in single quotes)`;
    }
    source += field.setter === undefined ? `(?:${field.re})` : `(${field.re})`;
    if (field.setter !== undefined) setters.push(field.setter);
  }
  const re = new RegExp(source + '$', 'i');
  const hasYear = /[yu]/.test(format.replace(/'[^']*'/g, ''));
  return (text) => {
    const m = re.exec(text);
    if (m === null) return undefined;
    const raw: Partial<RawTime> & { pm?: boolean; hour12?: number } = {};
    setters.forEach((setter, index) => {
      if (setter !== undefined) setter(raw, m[index + 1] ?? '');
    });
    if (raw.hour12 !== undefined) {
      if (raw.hour12 < 1 || raw.hour12 > 12) return undefined;
      raw.hour = (raw.hour12 % 12) + (raw.pm === true ? 12 : 0);
    }
    if (raw.month === undefined || raw.day === undefined) return undefined;
    return {
      year: hasYear ? raw.year : undefined,
      month: raw.month,
      day: raw.day,
      hour: raw.hour ?? 0,
      minute: raw.minute ?? 0,
      second: raw.second ?? 0,
      fraction: raw.fraction ?? '',
      offsetSeconds: raw.offsetSeconds,
      zone: raw.zone,
    };
  };
}

/** Every token the pattern language reads, for error messages and the README's table. */
export const TIMESTAMP_FORMAT_TOKENS: readonly string[] = [
  'yyyy',
  'yy',
  'y',
  'uuuu',
  'uu',
  'u',
  'MMMM',
  'MMM',
  'MM',
  'M',
  'dd',
  'd',
  'HH',
  'H',
  'hh',
  'h',
  'a',
  'mm',
  'm',
  'ss',
  's',
  'S…S (1-9)',
  'n',
  'X',
  'XX',
  'XXX',
  'x',
  'xx',
  'xxx',
  'Z',
  'ZZ',
  'ZZZ',
  'VV',
  'z',
  'E',
  'EEE',
  'EEEE',
  "'literal'",
];

const OFFSET_TOKENS = new Set(['X', 'XX', 'XXX', 'XXXX', 'XXXXX', 'x', 'xx', 'xxx', 'xxxx', 'xxxxx', 'Z', 'ZZ', 'ZZZ', 'ZZZZZ']);

/**
 * One java.time DateTimeFormatter letter run → a regex and what it sets. A
 * doubled letter is zero-padded to two digits (`HH` reads `07`), a single one
 * reads one or two digits (`H` reads `7` and `07`), as when parsing with
 * DateTimeFormatter.
 */
function patternToken(token: string): { re: string; setter?: Setter } | undefined {
  const letter = token.charAt(0);
  const length = token.length;
  if ((letter === 'y' || letter === 'u') && length === 2) return { re: '\\d{2}', setter: (r, s) => (r.year = pivotYear(int(s))) };
  if (letter === 'y' || letter === 'u') return { re: length === 4 ? '\\d{4}' : '\\d{1,4}', setter: (r, s) => (r.year = int(s)) };
  if (letter === 'M' && length >= 3 && length <= 4) return { re: MONTH_RE, setter: (r, s) => (r.month = monthNumber(s)) };
  if (letter === 'S' && length <= 9) {
    // Any run of S reads 1-9 digits: writers drop trailing zeros or vary the precision, and the digits are kept as written.
    return { re: '\\d{1,9}', setter: (r, s) => (r.fraction = s) };
  }
  if (token === 'n') return { re: '\\d{1,9}', setter: (r, s) => (r.fraction = s.padStart(9, '0')) };
  if (OFFSET_TOKENS.has(token)) return { re: OFFSET_RE, setter: (r, s) => (r.offsetSeconds = parseOffset(s)) };
  if (token === 'VV') return { re: '[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,3}', setter: (r, s) => (r.zone = s) };
  // Zone abbreviations are ambiguous (CST, IST); only the ones that name UTC are read.
  if (letter === 'z' && length <= 3) return { re: '(?:UTC|GMT|UT|Z)', setter: (r) => (r.offsetSeconds = 0) };
  if (letter === 'E' && length <= 4) return { re: DAY_NAME_RE };
  const number = (set: (raw: Partial<RawTime> & { pm?: boolean; hour12?: number }, value: number) => void): { re: string; setter: Setter } | undefined => {
    if (length > 2) return undefined;
    return { re: length === 2 ? '\\d{2}' : '\\d{1,2}', setter: (r, s) => set(r, int(s)) };
  };
  switch (letter) {
    case 'M':
      return number((r, v) => (r.month = v));
    case 'd':
      return number((r, v) => (r.day = v));
    case 'H':
      return number((r, v) => (r.hour = v));
    case 'h':
      return number((r, v) => (r.hour12 = v));
    case 'm':
      return number((r, v) => (r.minute = v));
    case 's':
      return number((r, v) => (r.second = v));
    case 'a':
      return length === 1 ? { re: '[AaPp][Mm]', setter: (r, s) => (r.pm = s.toLowerCase() === 'pm') } : undefined;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// Resolution: year inference, zones, formatting

/** Largest epoch second whose UTC year still fits RFC 3339's four digits (9999-12-31T23:59:59Z). */
const MAX_EPOCH_SECONDS = 253402300799;
const DAY = 86400;

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

/**
 * Local wall-clock seconds in `zone` → UTC epoch seconds. Candidate offsets
 * are those in force a day before and after (zones do not change twice in two
 * days); a candidate is right when the zone really has that offset at the
 * resulting instant. Overlap: the earlier instant. Gap: the offset from before
 * the transition, which moves the time forward by the gap length.
 */
function localToUtc(local: number, zone: string): number | undefined {
  const fixed = parseFixedOffset(zone);
  if (fixed !== undefined) return local - fixed;
  const before = zoneOffset(zone, local - DAY);
  const after = zoneOffset(zone, local + DAY);
  if (before === undefined || after === undefined) return undefined;
  const valid = [before, after].filter((offset) => zoneOffset(zone, local - offset) === offset).map((offset) => local - offset);
  if (valid.length > 0) return Math.min(...valid);
  return local - before;
}

const formatters = new Map<string, Intl.DateTimeFormat | undefined>();

function zoneFormatter(zone: string): Intl.DateTimeFormat | undefined {
  if (formatters.has(zone)) return formatters.get(zone);
  let formatter: Intl.DateTimeFormat | undefined;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    // RangeError for an unknown zone: reported as "cannot parse", never thrown.
    formatter = undefined;
  }
  formatters.set(zone, formatter);
  return formatter;
}

/** Offset east of UTC, in seconds, that `zone` has at the UTC instant `utcSeconds`. */
function zoneOffset(zone: string, utcSeconds: number): number | undefined {
  const formatter = zoneFormatter(zone);
  if (formatter === undefined) return undefined;
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatter.formatToParts(new Date(utcSeconds * 1000))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year, month, day, hour, minute, second } = parts;
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined || second === undefined) {
    return undefined;
  }
  const wall = daysFromCivil(year, month, day) * DAY + hour * 3600 + minute * 60 + second;
  return wall - utcSeconds;
}

/** `UTC`, `Z`, `+02:00`, `-0700`, `+05` → seconds east of UTC. */
function parseFixedOffset(zone: string): number | undefined {
  if (/^(?:UTC|GMT|Z)$/i.test(zone)) return 0;
  const m = /^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})?$/i.exec(zone);
  if (m === null) return undefined;
  const hours = int(m[2]);
  const minutes = int(m[3]);
  if (hours > 18 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
}

/** An offset written in the text; NaN when out of range, so `resolve` rejects the time instead of falling back to the configured zone. */
function parseOffset(text: string): number {
  return parseFixedOffset(text === 'UT' || text === 'ut' ? 'UTC' : text) ?? Number.NaN;
}

function formatUtc(epochSeconds: number, fraction: string): string | undefined {
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds < -62167219200 || epochSeconds > MAX_EPOCH_SECONDS) return undefined;
  const days = Math.floor(epochSeconds / DAY);
  const secondOfDay = epochSeconds - days * DAY;
  const { year, month, day } = civilFromDays(days);
  const frac = fraction.length >= 3 ? fraction : fraction.padEnd(3, '0');
  return (
    `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T` +
    `${pad(Math.floor(secondOfDay / 3600), 2)}:${pad(Math.floor(secondOfDay / 60) % 60, 2)}:${pad(secondOfDay % 60, 2)}.${frac}Z`
  );
}

// ---------------------------------------------------------------------------
// Small helpers

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** POSIX `strptime` `%y`: 69–99 → 1969–1999, 00–68 → 2000–2068. */
function pivotYear(yy: number): number {
  return yy >= 69 ? 1900 + yy : 2000 + yy;
}

function monthNumber(name: string | undefined): number {
  return MONTHS.indexOf((name ?? '').slice(0, 3).toLowerCase()) + 1;
}

function int(text: string | undefined): number {
  return text === undefined || text === '' ? 0 : Number.parseInt(text, 10);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Numbers become their plain decimal text; NaN, infinities, negatives and exponent forms are rejected. */
function numberToText(value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined;
  const text = Number.isInteger(value) ? BigInt(value).toString() : String(value);
  return /^\d+(?:\.\d+)?$/.test(text) ? text : undefined;
}
