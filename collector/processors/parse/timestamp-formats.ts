import { MAX_EPOCH_SECONDS, int, parseOffset, pivotYear } from './civil-time.js';

/**
 * The built-in timestamp shapes (RFC 3339, RFC 3164, Common Log, asctime, RFC 2822, yy/MM/dd, epochs), by
 * name and for auto-detection. Each matcher reads fields from the text; zones and years are resolved later.
 */

/** What a matcher read from the text, before zone and year are resolved. */
export interface RawTime {
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
export interface EpochTime {
  epochSeconds: number;
  fraction: string;
}

export type Matcher = (text: string) => RawTime | EpochTime | undefined;

export const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
export const MONTH_RE =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
export const DAY_NAME_RE = '(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*';
export const OFFSET_RE = '(?:[zZ]|[+-]\\d{2}(?::?\\d{2})?)';

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

export const NAMED_FORMATS = new Map<string, Matcher>([
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

export function autoDetect(text: string): RawTime | EpochTime | undefined {
  for (const matcher of AUTO_MATCHERS) {
    const parsed = matcher(text);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}

export function monthNumber(name: string | undefined): number {
  return MONTHS.indexOf((name ?? '').slice(0, 3).toLowerCase()) + 1;
}
