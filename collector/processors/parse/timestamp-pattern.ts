import { int, parseOffset, pivotYear } from './civil-time.js';
import { DAY_NAME_RE, MONTH_RE, OFFSET_RE, monthNumber, type Matcher, type RawTime } from './timestamp-formats.js';

/**
 * The `format` pattern language: java.time DateTimeFormatter letters compiled to a matcher. Any other ASCII
 * letter is an error (reserved), any other character is a literal; the token table is in
 * collector/processors/README.md and TIMESTAMP_FORMAT_TOKENS.
 */

type Setter = (raw: Partial<RawTime> & { pm?: boolean; hour12?: number }, s: string) => void;

/** Compiles a Joda-like pattern to a matcher, or returns an error message. */
export function compilePattern(format: string): Matcher | string {
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
