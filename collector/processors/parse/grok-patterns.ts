/**
 * The named patterns `%{NAME}` / `%{NAME:field}` can refer to in a `regex`
 * parser, in the spirit of Logstash grok's library but written for this
 * project and for JavaScript's RegExp dialect (no possessive quantifiers or
 * atomic groups). A pattern may refer to others with `%{NAME}`; references are
 * expanded recursively by `regex.ts`. Patterns never contain capturing groups,
 * so the only captures in an expanded regex are the ones the user named.
 *
 * Matching is unanchored unless the user's pattern anchors it (`^…$`), as in
 * grok. All patterns are case-sensitive unless noted.
 */

/** IPv4 octet 0–255 without leading zeros beyond the value ("010" is not matched as 10). */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';

/**
 * IPv6, generated from the RFC 3986 §3.2.2 `IPv6address` grammar (the nine
 * alternatives for where `::` may stand), with an optional IPv4 tail (`ls32`)
 * and an optional zone id (`%eth0`, RFC 6874).
 */
function ipv6(): string {
  const h16 = '[0-9A-Fa-f]{1,4}';
  const ls32 = `(?:${h16}:${h16}|${OCTET}(?:\\.${OCTET}){3})`;
  const rep = (count: number): string => (count === 0 ? '' : `(?:${h16}:){${count}}`);
  const upTo = (max: number): string => (max < 0 ? '' : `(?:(?:${h16}:){0,${max}}${h16})?`);
  const alternatives = [
    `${rep(6)}${ls32}`,
    `::${rep(5)}${ls32}`,
    `${upTo(0)}::${rep(4)}${ls32}`,
    `${upTo(1)}::${rep(3)}${ls32}`,
    `${upTo(2)}::${rep(2)}${ls32}`,
    `${upTo(3)}::${h16}:${ls32}`,
    `${upTo(4)}::${ls32}`,
    `${upTo(5)}::${h16}`,
    `${upTo(6)}::`,
  ];
  return `(?<![0-9A-Fa-f:])(?:${alternatives.join('|')})(?:%[0-9A-Za-z._~-]+)?(?![0-9A-Fa-f:])`;
}

/** Level words in the spellings logs use (`info`, `Info`, `INFO`); longest first so `warning` is not cut to `warn`. */
function logLevel(): string {
  const words = ['information', 'emergency', 'critical', 'warning', 'notice', 'severe', 'alert', 'debug', 'error', 'fatal', 'panic', 'trace']
    .concat(['emerg', 'crit', 'info', 'warn', 'err', 'dbg', 'inf', 'wrn', 'eror', 'ftl'])
    .sort((a, b) => b.length - a.length);
  const spellings = words.map((word) => `${word}|${word.charAt(0).toUpperCase()}${word.slice(1)}|${word.toUpperCase()}`);
  return `\\b(?:${spellings.join('|')})\\b`;
}

/** Name → regex source. Documented per entry; the README lists the same table. */
export const GROK_PATTERNS: ReadonlyMap<string, string> = new Map<string, string>([
  // --- words and free text
  /** Letters, digits and underscore between word boundaries. */
  ['WORD', '\\b\\w+\\b'],
  /** Any run of non-whitespace. */
  ['NOTSPACE', '\\S+'],
  /** Optional whitespace (grok's SPACE matches zero or more). */
  ['SPACE', '\\s*'],
  /** Anything, as little as possible: use between two literal delimiters. */
  ['DATA', '.*?'],
  /** Anything, as much as possible: typically the rest of the line. */
  ['GREEDYDATA', '.*'],
  /**
   * A double- or single-quoted string with backslash escapes, quotes included.
   * An opening quote is never one written escaped (`\"`): a scan only passes
   * over escaped quotes, so no two attempts scan the same text (linear time).
   */
  ['QUOTEDSTRING', `(?<!\\\\)"(?:[^"\\\\]|\\\\.)*"|(?<!\\\\)'(?:[^'\\\\]|\\\\.)*'`],
  ['QS', '%{QUOTEDSTRING}'],
  /** RFC 4122 textual UUID, any case. */
  ['UUID', '[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}'],
  /** User names as found in auth and access logs (`-` included: access logs write `-` for "none"). */
  ['USERNAME', '[a-zA-Z0-9._-]+'],
  ['USER', '%{USERNAME}'],

  // --- numbers
  /** Signed decimal integer. */
  ['INT', '[+-]?[0-9]+'],
  /** Unsigned integer without leading zero, e.g. a port or a pid. */
  ['POSINT', '\\b[1-9][0-9]*\\b'],
  /** Unsigned integer including 0. */
  ['NONNEGINT', '\\b[0-9]+\\b'],
  /** Signed decimal with optional fraction (`-1`, `3.14`, `.5`); no exponent. */
  ['BASE10NUM', '[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)'],
  ['NUMBER', '%{BASE10NUM}'],
  /** Hexadecimal integer with optional `0x`. */
  ['BASE16NUM', '(?<![0-9A-Fa-f])[+-]?(?:0x)?[0-9A-Fa-f]+'],

  // --- network
  ['IPV4', `(?<![0-9])${OCTET}(?:\\.${OCTET}){3}(?![0-9])`],
  ['IPV6', ipv6()],
  /** Either address family; IPv6 first because an IPv4 tail is part of some IPv6 forms. */
  ['IP', '(?:%{IPV6}|%{IPV4})'],
  /**
   * DNS name: labels of 1–63 letters/digits/hyphens, not starting or ending
   * with a hyphen. It starts only where a run of host characters starts: each
   * label of `a.b.c…` would otherwise start its own scan of the rest (quadratic).
   */
  ['HOSTNAME', '(?<![0-9A-Za-z_.-])[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?(?:\\.[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?)*\\b'],
  ['IPORHOST', '(?:%{IP}|%{HOSTNAME})'],
  ['HOSTPORT', '%{IPORHOST}:%{POSINT}'],
  /** MAC address, `:` or `-` separated, or Cisco dotted `0123.4567.89ab`. */
  ['MAC', '(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}|(?:[0-9A-Fa-f]{4}\\.){2}[0-9A-Fa-f]{4}'],

  // --- paths and URLs
  /** Unix path: one or more `/segment`. */
  ['UNIXPATH', '(?:/[^\\s/?#]*)+'],
  /** Windows path: `C:\\dir\\file` or `\\\\server\\share`. */
  ['WINPATH', '(?:[A-Za-z]:|\\\\)(?:\\\\[^\\\\/:*?"<>|\\s]+)+\\\\?'],
  ['PATH', '(?:%{UNIXPATH}|%{WINPATH})'],
  /** URL scheme (RFC 3986 §3.1), starting where a run of scheme characters starts (one scan per run, not one per letter). */
  ['URIPROTO', '(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*'],
  /** URL path: `/` followed by RFC 3986 pchars, repeated. */
  ['URIPATH', "(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)+"],
  /** Query string including its `?`, up to whitespace or a fragment. */
  ['URIPARAM', '\\?[^\\s#]*'],
  ['URIPATHPARAM', '%{URIPATH}(?:%{URIPARAM})?'],
  ['URIHOST', '%{IPORHOST}(?::%{POSINT})?'],
  /** The password part stops at `/`, `?` and `#` (RFC 3986 userinfo has none), so each `://` scans only its own authority. */
  ['URI', '%{URIPROTO}://(?:%{USER}(?::[^@\\s/?#]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?'],

  // --- program structure
  /** Java class name, dotted, with `$` for inner classes (`org.apache.Foo$Bar`). */
  ['JAVACLASS', '(?:[A-Za-z_$][A-Za-z0-9_$]*\\.)*[A-Za-z_$][A-Za-z0-9_$]*'],
  /** Severity words in lower, Title and UPPER case (`info`, `Warning`, `ERROR`; zerolog's `DBG`/`INF`/`WRN`/`FTL` and logrus' `eror` too). */
  ['LOGLEVEL', logLevel()],

  // --- dates and times (building blocks first)
  /** English month names, abbreviated or full, Title case or UPPER case. */
  [
    'MONTH',
    '\\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\\b',
  ],
  /** 1–12, optionally zero-padded. */
  ['MONTHNUM', '(?:0?[1-9]|1[0-2])'],
  /** 1–31, optionally zero-padded. */
  ['MONTHDAY', '(?:0[1-9]|[12][0-9]|3[01]|[1-9])'],
  /** English day names, abbreviated or full. */
  ['DAY', '\\b(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)\\b'],
  /** Four-digit year, or two digits. */
  ['YEAR', '(?:[0-9]{4}|[0-9]{2})'],
  ['HOUR', '(?:2[0-3]|[01]?[0-9])'],
  ['MINUTE', '[0-5][0-9]'],
  /** 00–60 (leap second) with an optional `.` or `,` fraction (log4j writes `,978`). */
  ['SECOND', '(?:[0-5]?[0-9]|60)(?:[.,][0-9]+)?'],
  /** `HH:mm:ss[.fff]`, not glued to other digits. */
  ['TIME', '(?<![0-9])%{HOUR}:%{MINUTE}:%{SECOND}(?![0-9])'],
  /** `Z`, `+02:00`, `+0200`, `+02`. */
  ['ISO8601_TIMEZONE', '(?:Z|[+-](?:2[0-3]|[01][0-9])(?::?[0-5][0-9])?)'],
  /** `2024-05-01T12:00:00.123Z`, also with a space instead of `T` and `,` fraction (log4j, Python logging). */
  ['TIMESTAMP_ISO8601', '[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?'],
  /** `05/31/2024` or `5-31-24`. */
  ['DATE_US', '%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}'],
  /** `31.05.2024`, `31/05/2024`, `31-05-24`. */
  ['DATE_EU', '%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}'],
  ['DATE', '(?:%{DATE_US}|%{DATE_EU})'],
  ['DATESTAMP', '%{DATE}[- ]%{TIME}'],
  /** RFC 3164 syslog: `Jun  4 15:16:01` (single-digit days padded with a space). */
  ['SYSLOGTIMESTAMP', '%{MONTH} +%{MONTHDAY} %{TIME}'],
  /** Common Log Format: `10/Oct/2000:13:55:36 -0700`. */
  ['HTTPDATE', '%{MONTHDAY}/%{MONTH}/[0-9]{4}:%{TIME} [+-][0-9]{4}'],
]);

/** Names a user may reference; for error messages. */
export function grokPatternNames(): string[] {
  return [...GROK_PATTERNS.keys()].sort();
}
