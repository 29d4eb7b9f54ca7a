/**
 * Severity normalisation to OpenTelemetry's SeverityNumber (logs data model,
 * "Field: SeverityNumber"): TRACE 1–4, DEBUG 5–8, INFO 9–12, WARN 13–16,
 * ERROR 17–20, FATAL 21–24.
 *
 * `text` is the data model's short name for the number: the range name for
 * the first number of a range ('INFO' = 9) and the range name with a suffix
 * for the others ('INFO2' = 10, 'ERROR3' = 19). Parsers do not put it in a
 * record's `severity_text`: the data model defines that as the level as the
 * source wrote it (`WARNING`, `W`, `eror`), so they keep the source's spelling
 * there and normalize only `severity_number`; group and match on the number.
 *
 * Where a source's level does not fall on a range start, the mapping follows
 * the data model's "Appendix B: SeverityNumber example mappings" table:
 * syslog notice → INFO2, crit → ERROR2, alert → ERROR3, emerg → FATAL;
 * java.util.logging FINEST → TRACE, FINER → DEBUG, FINE → DEBUG2,
 * CONFIG → DEBUG3, SEVERE → ERROR; zap DPANIC → ERROR2, PANIC → ERROR3.
 * Consequence worth knowing: Python's CRITICAL is read like syslog's crit
 * (ERROR2), not FATAL.
 */

export interface Severity {
  number: number;
  text: string;
}

const RANGE_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

/** The canonical `{ number, text }` for an OTel SeverityNumber 1–24. */
function severity(number: number): Severity {
  const range = RANGE_NAMES[Math.floor((number - 1) / 4)] ?? 'FATAL';
  const step = (number - 1) % 4;
  return { number, text: step === 0 ? range : `${range}${step + 1}` };
}

const TRACE = 1;
const DEBUG = 5;
const DEBUG2 = 6;
const DEBUG3 = 7;
const INFO = 9;
const INFO2 = 10;
const WARN = 13;
const ERROR = 17;
const ERROR2 = 18;
const ERROR3 = 19;
const FATAL = 21;

/** Lower-case spelling → SeverityNumber. */
const NAMES = new Map<string, number>([
  ['trace', TRACE],
  ['finest', TRACE],
  // Serilog and Android "verbose" sit below debug. (The data model's table maps
  // Windows Event Log "Verbose" to DEBUG; Windows has no lower level, so the
  // two agree on "the lowest one".)
  ['verbose', TRACE],
  ['v', TRACE],
  ['t', TRACE],
  ['debug', DEBUG],
  ['dbg', DEBUG],
  ['finer', DEBUG],
  ['d', DEBUG],
  ['fine', DEBUG2],
  ['config', DEBUG3],
  ['info', INFO],
  ['inf', INFO],
  ['information', INFO],
  ['informational', INFO],
  ['i', INFO],
  ['notice', INFO2],
  ['warn', WARN],
  ['warning', WARN],
  ['wrn', WARN],
  ['w', WARN],
  ['error', ERROR],
  ['err', ERROR],
  ['eror', ERROR], // logrus' four-letter abbreviation
  ['e', ERROR],
  ['severe', ERROR],
  ['crit', ERROR2],
  ['critical', ERROR2],
  ['dpanic', ERROR2],
  ['alert', ERROR3],
  ['panic', ERROR3],
  ['emerg', FATAL],
  ['emergency', FATAL],
  ['fatal', FATAL],
  ['ftl', FATAL],
  ['f', FATAL],
  ['a', FATAL], // Android "assert"
]);

/** RFC 5424 §6.2.1 table 2, severity 0–7, mapped per the data model's syslog column. */
const SYSLOG_SEVERITY: readonly number[] = [
  FATAL, // 0 Emergency
  ERROR3, // 1 Alert
  ERROR2, // 2 Critical
  ERROR, // 3 Error
  WARN, // 4 Warning
  INFO2, // 5 Notice
  INFO, // 6 Informational
  DEBUG, // 7 Debug
];

/** pino / bunyan numeric levels. */
const PINO_LEVELS = new Map<number, number>([
  [10, TRACE],
  [20, DEBUG],
  [30, INFO],
  [40, WARN],
  [50, ERROR],
  [60, FATAL],
]);

/**
 * Normalises a level as found in a log line or a `level` field.
 *
 * - Names, case-insensitive: see NAMES above (trace, debug/dbg, fine/finer/
 *   finest, info/information/informational, notice, warn/warning, err/error/
 *   severe, crit/critical, alert, emerg/emergency, fatal, panic), the glog/klog
 *   and Android single letters (T V D I W E F A), Apache 2.4's `trace1`…`trace8`
 *   (all TRACE), and the data model's own short names (`INFO2`, `ERROR3`…).
 * - Numbers (or all-digit strings) 0–7 are syslog severities (RFC 5424
 *   §6.2.1: 0 emergency … 7 debug), 10–60 in steps of ten are pino/bunyan
 *   levels. Other numbers are ambiguous and give undefined: in particular an
 *   OTel SeverityNumber 1–24 is not guessed, since 1–7 already mean syslog.
 *
 * Returns undefined for anything else.
 */
export function normalizeSeverity(value: string | number): Severity | undefined {
  if (typeof value === 'number') return fromNumber(value);
  const text = value.trim().toLowerCase();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return fromNumber(Number(text));
  const named = NAMES.get(text);
  if (named !== undefined) return severity(named);
  if (/^trace[1-8]$/.test(text)) return severity(TRACE);
  const short = /^(trace|debug|info|warn|error|fatal)([2-4])$/.exec(text);
  if (short !== null) {
    const base = RANGE_NAMES.indexOf((short[1] ?? '').toUpperCase() as (typeof RANGE_NAMES)[number]);
    return severity(base * 4 + Number(short[2]));
  }
  return undefined;
}

function fromNumber(value: number): Severity | undefined {
  if (!Number.isInteger(value)) return undefined;
  const syslog = SYSLOG_SEVERITY[value];
  if (syslog !== undefined) return severity(syslog);
  const pino = PINO_LEVELS.get(value);
  return pino === undefined ? undefined : severity(pino);
}

/**
 * Severity of a syslog PRI value (RFC 5424 §6.2.1, RFC 3164 §4.1.1):
 * PRI = facility × 8 + severity, so severity = priority & 7.
 */
export function severityFromSyslogPriority(priority: number): Severity {
  return severity(SYSLOG_SEVERITY[priority & 7] ?? INFO);
}

/** Access logs carry no level; the status class stands in for one: 5xx → ERROR, 4xx → WARN, else INFO. */
export function severityFromHttpStatus(status: number): Severity {
  if (status >= 500 && status <= 599) return severity(ERROR);
  if (status >= 400 && status <= 499) return severity(WARN);
  return severity(INFO);
}
