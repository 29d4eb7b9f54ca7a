/**
 * Parses a scrape response, Prometheus text format 0.0.4 or OpenMetrics 1.0,
 * into metric families (`agent/metric-families/families.ts`).
 *
 * Why not a library: the one npm package for this, parse-prometheus-text-format
 * (last published 2019), knows no OpenMetrics (no `# EOF`, `_created`, UNIT,
 * exemplars, info, stateset, gaugehistogram), throws on the first bad line and
 * returns numbers as strings. An agent must keep the good lines of a partly
 * broken scrape and say which lines it dropped, so this is written here.
 *
 * Why it looks the way it does: it runs on every scrape on every host, and
 * a big target exposes hundreds of thousands of samples. One pass over the
 * string; lines are found with `indexOf('\n')`, never split into an array.
 * Client libraries write a family's lines alike, so each line is first
 * compared with the line before: the metric name with the character after it,
 * each label's `,name="`, and for a histogram bucket or summary quantile the
 * whole text up to the `le` value (continueSeries), which settles family,
 * series and label names at once; only what differs is scanned. Comparisons
 * slice and use `===` (see holdsAt). Label values stay offsets into the text
 * until a new series needs them, and numbers are read digit by digit, with `Number()` only
 * beyond 2^53 or 10^±22. bench/micro/exposition-parse.ts measures it.
 *
 * What it accepts is what Prometheus's own parser accepts (model/textparse),
 * with these choices, all for keeping data rather than judging the exporter:
 * - Both formats get the text format's leniency: spaces or tabs anywhere
 *   between tokens, leading whitespace, a trailing comma or a missing comma
 *   between labels, empty lines. OpenMetrics's single-space rule is not
 *   enforced; its structure (`# EOF`, no free comments) is.
 * - A bad line is a `ParseProblem` (1-based line number, reason, the line) and
 *   is skipped; parsing goes on. Nothing throws.
 * - A series is identified by its labels in exposition order; exporters
 *   always repeat them in the same order, and not sorting keeps the hot path
 *   cheap. Duplicate value series are kept as they come.
 * - Families are reopened, not duplicated, when their samples or metadata
 *   come back later; families without samples are left out.
 * - `_created` is read only in OpenMetrics; in the text format a `x_created`
 *   line is a sample of its own, as Prometheus stores it.
 * - A `# TYPE` that contradicts an earlier one for the same family, or comes
 *   after that family's untyped samples, is a problem and ignored.
 */
import type {
  Bucket,
  HistogramSeries,
  Labels,
  MetricFamily,
  MetricType,
  Quantile,
  Series,
  SummarySeries,
  ValueSeries,
} from '../../../metric-families/families.js';
import {
  BACKSLASH,
  BRACE_CLOSE,
  BRACE_OPEN,
  CARRIAGE_RETURN,
  COMMA,
  DIGIT_0,
  EQUALS,
  HASH,
  LOWER_N,
  QUOTE,
  isBlank,
  isDigit,
  isLabelNameChar,
  isLabelNameStart,
  isMetricNameChar,
  isMetricNameStart,
} from './characters.js';
import { parseGoFloat } from './go-float.js';

export type ExpositionFormat = 'prometheus-text' | 'openmetrics';

export interface ParseProblem {
  /** 1-based line number in the exposition. */
  line: number;
  reason: string;
  /** The offending line, cut to 200 characters. */
  text: string;
}

export interface ParsedExposition {
  families: MetricFamily[];
  /** Sample lines accepted (what Prometheus reports as scrape_samples_scraped), `_created` lines included. */
  samples: number;
  /** The first MAX_STORED_PROBLEMS problems. */
  problems: ParseProblem[];
  /** Every problem, stored or not. */
  problemCount: number;
}

/** Problems kept in `ParsedExposition.problems`; a broken exporter can produce one per line. */
export const MAX_STORED_PROBLEMS = 100;
const MAX_PROBLEM_TEXT = 200;
/** Tokens quoted in reasons are cut to this, so a reason stays one readable line. */
const MAX_QUOTED_TOKEN = 40;

/** Chooses the format from a response Content-Type (application/openmetrics-text → openmetrics; text/plain or anything else → prometheus-text). */
export function formatFromContentType(contentType: string | undefined): ExpositionFormat {
  if (contentType === undefined) return 'prometheus-text';
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/openmetrics-text' ? 'openmetrics' : 'prometheus-text';
}

export function parseExposition(text: string, format: ExpositionFormat): ParsedExposition {
  return new ExpositionScanner(text, format === 'openmetrics').parse();
}

/** What follows a family's base name in a sample name. */
const SUFFIX_NONE = 0;
const SUFFIX_TOTAL = 1;
const SUFFIX_BUCKET = 2;
const SUFFIX_SUM = 3;
const SUFFIX_COUNT = 4;
const SUFFIX_CREATED = 5;
const SUFFIX_GSUM = 6;
const SUFFIX_GCOUNT = 7;
const SUFFIX_INFO = 8;
const SUFFIX_OTHER = 9;
const NOT_MEMBER = -1;

/** The suffixes a family's samples may add to its name; longest first, so `_gcount` is tried before `_count`. */
const SUFFIXES: readonly string[] = ['_created', '_bucket', '_gcount', '_total', '_count', '_gsum', '_info', '_sum'];

const TEXT_TYPES: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['summary', 'summary'],
  ['untyped', 'unknown'],
]);

const OPENMETRICS_TYPES: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['gaugehistogram', 'gaugehistogram'],
  ['summary', 'summary'],
  ['info', 'info'],
  ['stateset', 'stateset'],
  ['unknown', 'unknown'],
]);

/** Histogram and summary members gather several lines into one series. */
interface SeriesGroup {
  series: HistogramSeries | SummarySeries;
  /** The series' labels in exposition order, to compare a line against without building its labels. */
  names: string[];
  values: string[];
  /** The last bucket's bound, to notice out-of-order and repeated buckets without a search. */
  lastLe: number;
  unsorted: boolean;
}

interface FamilyState {
  name: string;
  type: MetricType;
  /** Set by a `# TYPE` line; a family made by a sample or HELP alone is untyped until then. */
  typed: boolean;
  help: string | undefined;
  unit: string | undefined;
  /** The family name without a counter's `_total`: the prefix every sample name of the family starts with. */
  base: string;
  totalName: string;
  infoName: string;
  /** Bit per SUFFIX_* this family's type accepts. */
  accepts: number;
  grouped: boolean;
  series: Series[];
  lastGroup: SeriesGroup | undefined;
  /** Series by their label key (labelKey: every name and value but `le`/`quantile`). */
  groups: Map<string, SeriesGroup> | undefined;
  /** Value series by label key, built only when an OpenMetrics `_created` line is not next to its sample. */
  valueIndex: Map<string, ValueSeries> | undefined;
}

function acceptedSuffixes(type: MetricType, openMetrics: boolean): number {
  const created = openMetrics ? 1 << SUFFIX_CREATED : 0;
  switch (type) {
    case 'counter':
      return (1 << SUFFIX_NONE) | (1 << SUFFIX_TOTAL) | created;
    case 'histogram':
      return (1 << SUFFIX_BUCKET) | (1 << SUFFIX_SUM) | (1 << SUFFIX_COUNT) | created;
    case 'gaugehistogram':
      return (1 << SUFFIX_BUCKET) | (1 << SUFFIX_GSUM) | (1 << SUFFIX_GCOUNT);
    case 'summary':
      return (1 << SUFFIX_NONE) | (1 << SUFFIX_SUM) | (1 << SUFFIX_COUNT) | created;
    case 'info':
      return 1 << SUFFIX_INFO;
    case 'gauge':
    case 'stateset':
    case 'unknown':
      return 1 << SUFFIX_NONE;
  }
}

function quoted(token: string): string {
  return JSON.stringify(token.length > MAX_QUOTED_TOKEN ? `${token.slice(0, MAX_QUOTED_TOKEN)}…` : token);
}

/**
 * Whether `text` holds `value` at `start`. A slice and `===` rather than
 * `startsWith`: V8's startsWith compares one character at a time (about 3 ns
 * each on the benchmark machine) while string equality compares memory, so a
 * 40-character name costs a third as much this way, and a bucket line's
 * 80-character prefix a sixth. Short slices are copies, longer ones views,
 * both cheap and short-lived.
 */
function holdsAt(text: string, start: number, value: string): boolean {
  return text.slice(start, start + value.length) === value;
}

/** Replaces `\\`, `\"` (label values and OpenMetrics help) and `\n`; other backslashes stay as they are, as in Prometheus. */
function unescape(text: string, start: number, end: number, quotes: boolean): string {
  if (end - start > LONG_ESCAPED_TEXT) return unescapeLong(text, start, end, quotes);
  let out = '';
  let from = start;
  for (let index = start; index < end - 1; index++) {
    if (text.charCodeAt(index) !== BACKSLASH) continue;
    const next = text.charCodeAt(index + 1);
    let replacement: string;
    if (next === BACKSLASH) replacement = '\\';
    else if (next === LOWER_N) replacement = '\n';
    else if (next === QUOTE && quotes) replacement = '"';
    else continue;
    out += text.slice(from, index) + replacement;
    index++;
    from = index + 1;
  }
  return out + text.slice(from, end);
}

/** From this length on, text with escapes is unescaped through a buffer of character codes. */
const LONG_ESCAPED_TEXT = 1024;
const CHARACTERS_PER_PIECE = 8192;
const NEWLINE = 0x0a;

/**
 * {@link unescape} for long text. `out +=` per escape makes one short-lived string and one rope level per escape;
 * on a 1.5 MB HELP line of escapes that was 0.8 s of mostly garbage collection where a quarter of it took 7 ms.
 * Character codes go into one buffer instead, made into strings a piece at a time.
 */
function unescapeLong(text: string, start: number, end: number, quotes: boolean): string {
  const codes = new Uint16Array(end - start);
  let length = 0;
  for (let index = start; index < end; index++) {
    let code = text.charCodeAt(index);
    if (code === BACKSLASH && index + 1 < end) {
      const next = text.charCodeAt(index + 1);
      if (next === BACKSLASH || next === LOWER_N || (next === QUOTE && quotes)) {
        code = next === LOWER_N ? NEWLINE : next;
        index++;
      }
    }
    codes[length++] = code;
  }
  const pieces: string[] = [];
  for (let from = 0; from < length; from += CHARACTERS_PER_PIECE) {
    pieces.push(String.fromCharCode(...codes.subarray(from, Math.min(length, from + CHARACTERS_PER_PIECE))));
  }
  return pieces.join('');
}

function setLabel(labels: Labels, name: string, value: string): void {
  // Assigning `__proto__` would set the prototype instead of a label.
  if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
  else labels[name] = value;
}

/** From this many labels on a line, duplicates are looked for in a Set. */
const MANY_LABELS = 32;
/** A string identifying a label set; the value's length makes it unambiguous whatever the value holds. */
function labelKeyPart(name: string, value: string): string {
  return `${name}=${value.length}:${value}`;
}

class ExpositionScanner {
  private readonly states: FamilyState[] = [];
  private readonly byName = new Map<string, FamilyState>();
  /** Untyped families of samples whose name is taken by a family that does not take them (a sample `foo` beside a histogram `foo`). */
  private readonly untypedTwins = new Map<string, FamilyState>();
  private current: FamilyState | undefined;
  private samples = 0;
  private readonly problems: ParseProblem[] = [];
  private problemCount = 0;
  private sawEof = false;

  private lineNumber = 0;
  private lineStart = 0;
  /** End of the line's content: before the `\n`, and before a `\r` that precedes it. */
  private lineEnd = 0;

  // The labels of the sample line being parsed; values stay offsets into the text until a series needs them.
  private labelCount = 0;
  private readonly labelNames: string[] = [];
  private readonly valueStarts: number[] = [];
  private readonly valueEnds: number[] = [];
  private readonly valueEscaped: boolean[] = [];
  /** The label name seen last at each position, reused when the next line has the same text there. */
  private readonly nameCache: string[] = [];
  /** `name="` for nameCache[0], `,name="` for the others: a label as clients write it, up to its value. */
  private readonly labelHeads: string[] = [];
  private readonly scratchValues: string[] = [];
  private readonly scratchNames: string[] = [];
  /** Histograms whose buckets came out of order, sorted at the end. */
  private readonly unsorted: HistogramSeries[] = [];
  /** The previous sample line's name and the character after it (`{` or a blank); the name's family is `current`. */
  private lineHead: string | undefined;
  /** The SUFFIX_* of lineHead in `current`. */
  private lineHeadSuffix = NOT_MEMBER;
  /** The value and timestamp parseValue read. */
  private sampleValue = 0;
  private sampleTimestampMs: number | undefined;
  /** For continueSeries: a bucket line's text up to its `le` value (or a quantile line's), and where such lines go. */
  private seriesPrefix: string | undefined;
  private seriesPrefixGroup: SeriesGroup | undefined;
  private seriesPrefixState: FamilyState | undefined;
  private seriesPrefixSuffix = SUFFIX_NONE;
  /** The label value made last at each position. */
  private readonly valueCache: string[] = [];
  /** labelNames[0, seenCount) of line seenLine, once it has MANY_LABELS labels. */
  private readonly seenNames = new Set<string>();
  private seenLine = 0;
  private seenCount = 0;
  /** nameCache[0, distinctNames) are known to differ from each other. */
  private distinctNames = 0;
  /** Where `le` and `quantile` are among the current line's labels, -1 when absent. */
  private leIndex = -1;
  private quantileIndex = -1;
  private nextBackslash = -1;
  private escapedValue = false;

  constructor(
    private readonly text: string,
    private readonly openMetrics: boolean,
  ) {}

  parse(): ParsedExposition {
    const text = this.text;
    const length = text.length;
    let position = 0;
    while (position < length) {
      let newline = text.indexOf('\n', position);
      if (newline === -1) newline = length;
      let end = newline;
      if (end > position && text.charCodeAt(end - 1) === CARRIAGE_RETURN) end--;
      this.lineNumber++;
      this.lineStart = position;
      this.lineEnd = end;
      if (this.sawEof) {
        if (this.skipBlanks(position) < end) {
          this.problem('content after # EOF');
          break;
        }
      } else {
        this.parseLine();
      }
      position = newline + 1;
    }
    if (this.openMetrics && !this.sawEof) {
      this.lineNumber++;
      this.lineStart = this.lineEnd = length;
      this.problem('missing # EOF');
    }
    return { families: this.finish(), samples: this.samples, problems: this.problems, problemCount: this.problemCount };
  }

  private finish(): MetricFamily[] {
    for (const series of this.unsorted) series.buckets.sort((a, b) => a.le - b.le);
    const families: MetricFamily[] = [];
    for (const state of this.states) {
      if (state.series.length === 0) continue;
      families.push({
        name: state.name,
        type: state.type,
        ...(state.help === undefined ? {} : { help: state.help }),
        ...(state.unit === undefined ? {} : { unit: state.unit }),
        series: state.series,
      });
    }
    return families;
  }

  private problem(reason: string): void {
    this.problemCount++;
    if (this.problems.length >= MAX_STORED_PROBLEMS) return;
    const end = Math.min(this.lineEnd, this.lineStart + MAX_PROBLEM_TEXT);
    this.problems.push({ line: this.lineNumber, reason, text: this.text.slice(this.lineStart, end) });
  }

  private skipBlanks(position: number): number {
    const text = this.text;
    const end = this.lineEnd;
    while (position < end && isBlank(text.charCodeAt(position))) position++;
    return position;
  }

  private parseLine(): void {
    const start = this.skipBlanks(this.lineStart);
    if (start === this.lineEnd) return;
    if (this.text.charCodeAt(start) === HASH) this.parseComment(start);
    else this.parseSample(start);
  }

  // ---- # HELP, # TYPE, # UNIT, # EOF and comments

  private parseComment(hash: number): void {
    // Metadata can change what a name means (a new current family, a TYPE), so the next name is looked at afresh.
    this.lineHead = undefined;
    this.seriesPrefix = undefined;
    const text = this.text;
    const end = this.lineEnd;
    let position = hash + 1;
    const keywordStart = this.skipBlanks(position);
    if (keywordStart === position || keywordStart === end) return this.freeComment();
    position = keywordStart;
    while (position < end && !isBlank(text.charCodeAt(position))) position++;
    const keyword = this.keyword(keywordStart, position);
    if (keyword === 'EOF') {
      if (this.skipBlanks(position) < end) return this.problem('unexpected text after # EOF');
      this.sawEof = true;
      return;
    }
    if (keyword === undefined) return this.freeComment();
    // A bare `# HELP` is a comment to Prometheus's text parser, which wants a blank after the keyword.
    if (position === end) return this.openMetrics ? this.problem(`expected a metric name after ${keyword}`) : undefined;
    position = this.skipBlanks(position);
    const nameStart = position;
    if (position === end || !isMetricNameStart(text.charCodeAt(position))) return this.problem(`expected a metric name after ${keyword}`);
    position++;
    while (position < end && isMetricNameChar(text.charCodeAt(position))) position++;
    if (position < end && !isBlank(text.charCodeAt(position))) return this.problem(`invalid metric name after ${keyword}`);
    const name = text.slice(nameStart, position);
    position = this.skipBlanks(position);
    if (keyword === 'HELP') {
      this.familyForMetadata(name).help = unescape(text, position, end, this.openMetrics);
      return;
    }
    let valueEnd = end;
    while (valueEnd > position && isBlank(text.charCodeAt(valueEnd - 1))) valueEnd--;
    const value = text.slice(position, valueEnd);
    if (keyword === 'UNIT') {
      if (value !== '') this.familyForMetadata(name).unit = value;
      return;
    }
    const type = (this.openMetrics ? OPENMETRICS_TYPES : TEXT_TYPES).get(value);
    if (type === undefined) return this.problem(`invalid metric type ${quoted(value)}`);
    const state = this.familyForMetadata(name);
    if (state.typed) {
      if (state.type !== type) this.problem(`TYPE ${type} for ${name} contradicts the earlier TYPE ${state.type}`);
    } else if (state.series.length > 0) {
      this.problem(`TYPE for ${name} after its untyped samples`);
    } else {
      this.setType(state, type);
    }
  }

  /** The metadata keyword at `text[start, end)` that this format knows. */
  private keyword(start: number, end: number): 'HELP' | 'TYPE' | 'UNIT' | 'EOF' | undefined {
    const text = this.text;
    const length = end - start;
    if (length === 4 && holdsAt(text, start, 'HELP')) return 'HELP';
    if (length === 4 && holdsAt(text, start, 'TYPE')) return 'TYPE';
    if (!this.openMetrics) return undefined;
    if (length === 4 && holdsAt(text, start, 'UNIT')) return 'UNIT';
    if (length === 3 && holdsAt(text, start, 'EOF')) return 'EOF';
    return undefined;
  }

  /** Text format: any other comment is allowed. OpenMetrics allows none. */
  private freeComment(): void {
    if (this.openMetrics) this.problem('unexpected comment');
  }

  private familyForMetadata(name: string): FamilyState {
    let state = this.current;
    if (state?.name !== name) {
      state = this.byName.get(name) ?? this.newFamily(name, true);
      this.current = state;
    }
    return state;
  }

  private newFamily(name: string, register: boolean): FamilyState {
    const state: FamilyState = {
      name,
      type: 'unknown',
      typed: false,
      help: undefined,
      unit: undefined,
      base: name,
      totalName: `${name}_total`,
      infoName: `${name}_info`,
      accepts: acceptedSuffixes('unknown', this.openMetrics),
      grouped: false,
      series: [],
      lastGroup: undefined,
      groups: undefined,
      valueIndex: undefined,
    };
    this.states.push(state);
    if (register) this.byName.set(name, state);
    return state;
  }

  private setType(state: FamilyState, type: MetricType): void {
    state.type = type;
    state.typed = true;
    state.accepts = acceptedSuffixes(type, this.openMetrics);
    state.grouped = type === 'histogram' || type === 'gaugehistogram' || type === 'summary';
    if (type === 'counter' && state.name.endsWith('_total')) {
      state.base = state.name.slice(0, -'_total'.length);
      state.totalName = state.name;
    }
  }

  // ---- sample lines

  private parseSample(nameStart: number): void {
    if (this.seriesPrefix !== undefined && this.continueSeries(nameStart)) return;
    const text = this.text;
    const end = this.lineEnd;
    let position: number;
    let suffix: number;
    const head = this.lineHead;
    if (head !== undefined && holdsAt(text, nameStart, head)) {
      // The same name as on the line before (a histogram's next bucket, a counter's next series): same family, same suffix.
      position = nameStart + head.length - 1;
      suffix = this.lineHeadSuffix;
    } else {
      position = this.scanName(nameStart);
      if (position < 0) return;
      suffix = this.lineHeadSuffix;
    }
    // Resolved by the name alone, so a bad line may leave an empty family behind; empty families are left out.
    const state = this.current;
    if (state === undefined) return;
    position = this.skipBlanks(position);
    this.labelCount = 0;
    this.leIndex = -1;
    this.quantileIndex = -1;
    if (position < end && text.charCodeAt(position) === BRACE_OPEN) {
      position = this.parseLabels(position + 1);
      if (position < 0) return;
      position = this.skipBlanks(position);
    }

    if (!this.parseValue(position, true)) return;
    if (this.addSample(state, suffix, this.sampleValue, this.sampleTimestampMs)) this.samples++;
  }

  /**
   * Reads the value, timestamp and exemplar from `position` to the end of the
   * line into `sampleValue` and `sampleTimestampMs`. False when the line is
   * bad, after recording why if `report`.
   */
  private parseValue(position: number, report: boolean): boolean {
    const text = this.text;
    const end = this.lineEnd;
    const valueStart = position;
    // Prometheus ends a text-format value at a blank or `{`, an OpenMetrics one at a blank.
    while (position < end) {
      const code = text.charCodeAt(position);
      if (isBlank(code) || (code === BRACE_OPEN && !this.openMetrics)) break;
      position++;
    }
    if (position === valueStart) return report && this.rejectLine('missing value');
    const value = parseGoFloat(text, valueStart, position);
    if (value === undefined) return report && this.rejectLine(`invalid value ${quoted(text.slice(valueStart, position))}`);
    this.sampleValue = value;
    this.sampleTimestampMs = undefined;
    position = this.skipBlanks(position);
    if (position < end && !this.isExemplarStart(position)) {
      const timestampStart = position;
      while (position < end && !isBlank(text.charCodeAt(position))) position++;
      const timestampMs = this.openMetrics ? this.openMetricsTimestamp(timestampStart, position) : this.textTimestamp(timestampStart, position);
      if (timestampMs === undefined) return report && this.rejectLine(`invalid timestamp ${quoted(text.slice(timestampStart, position))}`);
      this.sampleTimestampMs = timestampMs;
      position = this.skipBlanks(position);
      if (position < end && !this.isExemplarStart(position)) return report && this.rejectLine('unexpected text after the timestamp');
    }
    if (position < end && !this.isValidExemplarStart(position)) return report && this.rejectLine('invalid exemplar');
    return true;
  }

  private rejectLine(reason: string): false {
    this.problem(reason);
    return false;
  }

  /**
   * The next bucket (or quantile) of the series on the line before, found by
   * one comparison: the line starts with that line's text up to its `le`
   * value, `le` being the last label as client libraries write it. Most
   * samples of most expositions are such lines. False, with nothing changed,
   * when the line is not one of these or anything about it is unusual; the
   * general path then takes it, and reports what is wrong.
   */
  private continueSeries(nameStart: number): boolean {
    const prefix = this.seriesPrefix;
    const group = this.seriesPrefixGroup;
    const state = this.seriesPrefixState;
    if (prefix === undefined || group === undefined || state === undefined || !holdsAt(this.text, nameStart, prefix)) return false;
    const boundStart = nameStart + prefix.length;
    const close = this.closingQuote(boundStart);
    if (close < 0 || this.escapedValue || this.text.charCodeAt(close + 1) !== BRACE_CLOSE) return false;
    const bound = parseGoFloat(this.text, boundStart, close);
    if (bound === undefined || Number.isNaN(bound) || !this.parseValue(this.skipBlanks(close + 2), false)) return false;
    if (this.current !== state) {
      this.current = state;
      this.lineHead = undefined;
    }
    state.lastGroup = group;
    if (this.fileGrouped(group, this.seriesPrefixSuffix, bound, this.sampleValue, this.sampleTimestampMs)) this.samples++;
    return true;
  }

  /**
   * Scans the metric name at `nameStart`, finds its family (made current) and
   * its suffix there, and remembers both with the name as `lineHead`. Returns
   * the position after the name, or -1 after recording a problem.
   */
  private scanName(nameStart: number): number {
    const text = this.text;
    const end = this.lineEnd;
    const current = this.current;
    let suffix = NOT_MEMBER;
    let position: number;
    if (current !== undefined && holdsAt(text, nameStart, current.base)) {
      position = nameStart + current.base.length;
      const suffixStart = position;
      while (position < end && isMetricNameChar(text.charCodeAt(position))) position++;
      const found = position === suffixStart ? SUFFIX_NONE : this.suffixAt(suffixStart, position);
      if ((current.accepts & (1 << found)) !== 0) suffix = found;
    } else {
      if (!isMetricNameStart(text.charCodeAt(nameStart))) {
        this.problem('expected a metric name');
        return -1;
      }
      position = nameStart + 1;
      while (position < end && isMetricNameChar(text.charCodeAt(position))) position++;
    }
    if (suffix === NOT_MEMBER) {
      const state = this.familyForSample(text.slice(nameStart, position), nameStart, position);
      this.current = state;
      suffix = this.membership(state, nameStart, position);
    }
    // The head includes the character after the name, so a longer name never matches it.
    const after = position < end ? text.charCodeAt(position) : NaN;
    this.lineHead = after === BRACE_OPEN || isBlank(after) ? text.slice(nameStart, position + 1) : undefined;
    this.lineHeadSuffix = suffix;
    return position;
  }

  /** An OpenMetrics exemplar follows its sample as ` # {labels} value [timestamp]`; it is checked for its `# {` and ignored. */
  private isExemplarStart(position: number): boolean {
    return this.openMetrics && this.text.charCodeAt(position) === HASH;
  }

  private isValidExemplarStart(position: number): boolean {
    const afterHash = position + 1;
    if (afterHash >= this.lineEnd || !isBlank(this.text.charCodeAt(afterHash))) return false;
    const brace = this.skipBlanks(afterHash);
    return brace < this.lineEnd && this.text.charCodeAt(brace) === BRACE_OPEN;
  }

  /** Text format: integer milliseconds, digits only as in Prometheus's lexer. */
  private textTimestamp(start: number, end: number): number | undefined {
    const text = this.text;
    let value = 0;
    for (let index = start; index < end; index++) {
      const code = text.charCodeAt(index);
      if (!isDigit(code)) return undefined;
      value = value * 10 + (code - DIGIT_0);
    }
    return value;
  }

  /** OpenMetrics: seconds, possibly fractional; rounded to the millisecond, since `1.001 * 1000` is not exactly 1001. */
  private openMetricsTimestamp(start: number, end: number): number | undefined {
    const seconds = parseGoFloat(this.text, start, end);
    if (seconds === undefined || !Number.isFinite(seconds)) return undefined;
    return Math.round(seconds * 1000);
  }

  /** Scans labels after `{` into the scratch arrays; returns the position after `}`, or -1 after recording a problem. */
  private parseLabels(position: number): number {
    const text = this.text;
    const end = this.lineEnd;
    let index = 0;
    // Fast path: labels written exactly as on the line before, `name="…",name="…"`, as every client library writes them.
    // One comparison per label replaces the blanks, name, `=` and quote checks; names known distinct need no duplicate check.
    while (index < this.distinctNames) {
      const head = this.labelHeads[index] ?? '';
      if (!holdsAt(text, position, head)) break;
      const valueStart = position + head.length;
      const close = this.closingQuote(valueStart);
      if (close < 0) return this.labelProblem('unterminated label value');
      this.addLabel(index, this.nameCache[index] ?? '', valueStart, close);
      position = close + 1;
      index++;
    }
    if (index > 0) {
      position = this.afterLabelValue(position);
      if (position < 0) return position;
    }
    for (;;) {
      position = this.skipBlanks(position);
      if (position === end) return this.labelProblem('unterminated label set');
      const code = text.charCodeAt(position);
      if (code === BRACE_CLOSE) return position + 1;
      index = this.labelCount;
      const nameStart = position;
      if (!isLabelNameStart(code)) return this.labelProblem('expected a label name');
      position++;
      while (position < end && isLabelNameChar(text.charCodeAt(position))) position++;
      const nameEnd = position;
      position = this.skipBlanks(position);
      if (position === end || text.charCodeAt(position) !== EQUALS) return this.labelProblem('expected "=" after a label name');
      position = this.skipBlanks(position + 1);
      if (position === end || text.charCodeAt(position) !== QUOTE) return this.labelProblem('expected a quoted label value');
      const valueStart = position + 1;
      const close = this.closingQuote(valueStart);
      if (close < 0) return this.labelProblem('unterminated label value');
      const cached = this.nameCache[index];
      const name = cached?.length === nameEnd - nameStart && holdsAt(text, nameStart, cached) ? cached : text.slice(nameStart, nameEnd);
      if (index >= this.distinctNames || name !== cached) {
        if (this.isDuplicateName(index, name)) return this.labelProblem(`duplicate label name ${quoted(name)}`);
        if (name !== cached) {
          this.nameCache[index] = name;
          this.labelHeads[index] = index === 0 ? `${name}="` : `,${name}="`;
        }
        // The cached names up to here are now known to differ, so the next line with the same names skips this loop.
        this.distinctNames = index + 1;
      }
      this.addLabel(index, name, valueStart, close);
      position = this.afterLabelValue(close + 1);
      if (position < 0) return position;
    }
  }

  /** Whether labels [0, index) of this line include `name`; a set past a few dozen labels, so a hostile line cannot make this quadratic. */
  private isDuplicateName(index: number, name: string): boolean {
    if (index < MANY_LABELS) {
      for (let other = 0; other < index; other++) {
        if (this.labelNames[other] === name) return true;
      }
      return false;
    }
    const seen = this.seenNames;
    if (this.seenLine !== this.lineNumber) {
      seen.clear();
      this.seenLine = this.lineNumber;
      this.seenCount = 0;
    }
    for (; this.seenCount < index; this.seenCount++) seen.add(this.labelNames[this.seenCount] ?? '');
    return seen.has(name);
  }

  private addLabel(index: number, name: string, valueStart: number, valueEnd: number): void {
    if (name.length === 2 && name === 'le') this.leIndex = index;
    else if (name.length === 8 && name === 'quantile') this.quantileIndex = index;
    this.labelNames[index] = name;
    this.valueStarts[index] = valueStart;
    this.valueEnds[index] = valueEnd;
    this.valueEscaped[index] = this.escapedValue;
    this.labelCount = index + 1;
  }

  /** Past the blanks and comma after a label value; -1 after recording a problem. */
  private afterLabelValue(position: number): number {
    position = this.skipBlanks(position);
    if (position === this.lineEnd) return this.labelProblem('unterminated label set');
    const code = this.text.charCodeAt(position);
    // A trailing comma is allowed; so, as in Prometheus, is no comma before the next label.
    if (code === COMMA) return position + 1;
    if (code === BRACE_CLOSE || isLabelNameStart(code)) return position;
    return this.labelProblem('expected "," or "}" after a label value');
  }

  private labelProblem(reason: string): number {
    this.problem(reason);
    return -1;
  }

  /**
   * The position of the `"` that ends the label value starting at `start`,
   * or -1 when the line ends first; sets `escapedValue`. Both searches are
   * `indexOf`; the next backslash is remembered, so text without any is
   * searched for one once, not once per value.
   */
  private closingQuote(start: number): number {
    const text = this.text;
    const end = this.lineEnd;
    if (this.nextBackslash < start) {
      const found = text.indexOf('\\', start);
      this.nextBackslash = found === -1 ? text.length : found;
    }
    let quote = text.indexOf('"', start);
    if (quote === -1 || quote >= end) quote = -1;
    if (this.nextBackslash >= (quote === -1 ? end : quote)) {
      this.escapedValue = false;
      return quote;
    }
    this.escapedValue = true;
    for (let position = start; position < end; position++) {
      const code = text.charCodeAt(position);
      if (code === QUOTE) return position;
      if (code === BACKSLASH) position++;
    }
    return -1;
  }

  private labelValue(index: number): string {
    const start = this.valueStarts[index] ?? 0;
    const end = this.valueEnds[index] ?? 0;
    if (this.valueEscaped[index]) return unescape(this.text, start, end, true);
    // Neighbouring series mostly repeat their values (method, code, instance): share the string rather than allocate one per series.
    const cached = this.valueCache[index];
    if (cached?.length === end - start && holdsAt(this.text, start, cached)) return cached;
    const value = this.text.slice(start, end);
    this.valueCache[index] = value;
    return value;
  }

  private labelValueEquals(index: number, value: string): boolean {
    if (this.valueEscaped[index]) return this.labelValue(index) === value;
    const start = this.valueStarts[index] ?? 0;
    return (this.valueEnds[index] ?? 0) - start === value.length && holdsAt(this.text, start, value);
  }

  private findLabel(name: string): number {
    for (let index = 0; index < this.labelCount; index++) {
      if (this.labelNames[index] === name) return index;
    }
    return -1;
  }

  /** The labels of the current line. */
  private buildLabels(): Labels {
    const values = this.scratchValues;
    for (let index = 0; index < this.labelCount; index++) values[index] = this.labelValue(index);
    return this.makeLabels(this.labelNames, values, this.labelCount);
  }

  // Plain objects: generating object literals per label set (new Function) measured ~8% faster, not worth
  // code generation from scraped input in an agent that runs on every host.
  private makeLabels(names: readonly string[], values: readonly string[], count: number): Labels {
    const labels: Labels = {};
    for (let index = 0; index < count; index++) setLabel(labels, names[index] ?? '', values[index] ?? '');
    return labels;
  }

  private labelKey(skip: number): string {
    let key = '';
    for (let index = 0; index < this.labelCount; index++) {
      if (index !== skip) key += labelKeyPart(this.labelNames[index] ?? '', this.labelValue(index));
    }
    return key;
  }

  // ---- grouping samples into families and series

  /** Files the sample into its family, by the suffix its name has there; false when a problem was recorded instead. */
  private addSample(state: FamilyState, suffix: number, value: number, timestampMs: number | undefined): boolean {
    if (state.grouped) return this.addGroupedSample(state, suffix, value, timestampMs);
    if (suffix === SUFFIX_CREATED) return this.addCreated(state, value);
    const name = suffix === SUFFIX_TOTAL ? state.totalName : suffix === SUFFIX_INFO ? state.infoName : state.base;
    const series: ValueSeries = { kind: 'value', name, labels: this.buildLabels(), value };
    if (timestampMs !== undefined) series.timestampMs = timestampMs;
    state.series.push(series);
    state.valueIndex?.set(this.labelKey(-1), series);
    return true;
  }

  /** The SUFFIX_* by which the sample name belongs to the family, or NOT_MEMBER. */
  private membership(state: FamilyState, nameStart: number, nameEnd: number): number {
    const base = state.base;
    const length = nameEnd - nameStart;
    if (length < base.length || !holdsAt(this.text, nameStart, base)) return NOT_MEMBER;
    const suffix = length === base.length ? SUFFIX_NONE : this.suffixAt(nameStart + base.length, nameEnd);
    return (state.accepts & (1 << suffix)) !== 0 ? suffix : NOT_MEMBER;
  }

  private suffixAt(start: number, end: number): number {
    // Runs for every bucket, sum, count and OpenMetrics `_total` line; longer tails are none of these.
    if (end - start > '_created'.length) return SUFFIX_OTHER;
    switch (this.text.slice(start, end)) {
      case '_bucket':
        return SUFFIX_BUCKET;
      case '_sum':
        return SUFFIX_SUM;
      case '_count':
        return SUFFIX_COUNT;
      case '_total':
        return SUFFIX_TOTAL;
      case '_created':
        return SUFFIX_CREATED;
      case '_gsum':
        return SUFFIX_GSUM;
      case '_gcount':
        return SUFFIX_GCOUNT;
      case '_info':
        return SUFFIX_INFO;
      default:
        return SUFFIX_OTHER;
    }
  }

  /**
   * The family a sample belongs to when it is not the current one: a family
   * seen before (its samples came back after another family's), or a new
   * untyped family named as the sample.
   */
  private familyForSample(name: string, nameStart: number, nameEnd: number): FamilyState {
    const same = this.byName.get(name);
    if (same !== undefined && this.membership(same, nameStart, nameEnd) !== NOT_MEMBER) return same;
    for (const suffix of SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      const candidate = this.byName.get(name.slice(0, -suffix.length));
      if (candidate !== undefined && this.membership(candidate, nameStart, nameEnd) !== NOT_MEMBER) return candidate;
    }
    if (same === undefined) return this.newFamily(name, true);
    let twin = this.untypedTwins.get(name);
    if (twin === undefined) {
      twin = this.newFamily(name, false);
      this.untypedTwins.set(name, twin);
    }
    return twin;
  }

  private addCreated(state: FamilyState, created: number): boolean {
    const last = state.series[state.series.length - 1];
    let series: Series | undefined = last !== undefined && this.sameLabels(last.labels) ? last : undefined;
    if (series === undefined) {
      let index = state.valueIndex;
      if (index === undefined) {
        index = new Map();
        for (const member of state.series) {
          if (member.kind !== 'value') continue;
          let key = '';
          for (const [name, value] of Object.entries(member.labels)) key += labelKeyPart(name, value);
          index.set(key, member);
        }
        state.valueIndex = index;
      }
      series = index.get(this.labelKey(-1));
    }
    if (series === undefined) {
      this.problem(`${state.base}_created without a sample of its series before it`);
      return false;
    }
    series.created = created;
    return true;
  }

  /**
   * Whether `labels` are the current line's. Labels in the same order are checked one to one; out of order, a name is
   * searched for only on lines of a few labels, so a line of thousands of shuffled labels cannot make this quadratic.
   */
  private sameLabels(labels: Labels): boolean {
    let count = 0;
    for (const name in labels) {
      if (!Object.hasOwn(labels, name)) continue;
      const index = this.labelNames[count] === name && count < this.labelCount ? count : this.labelCount <= MANY_LABELS ? this.findLabel(name) : -1;
      count++;
      if (index < 0 || !this.labelValueEquals(index, labels[name] ?? '')) return false;
    }
    return count === this.labelCount;
  }

  private addGroupedSample(state: FamilyState, suffix: number, value: number, timestampMs: number | undefined): boolean {
    const histogram = state.type !== 'summary';
    let skip = -1;
    let bound = 0;
    if (suffix === SUFFIX_BUCKET || (suffix === SUFFIX_NONE && !histogram)) {
      const labelName = histogram ? 'le' : 'quantile';
      skip = histogram ? this.leIndex : this.quantileIndex;
      if (skip < 0) {
        this.problem(`${histogram ? 'histogram bucket' : 'summary quantile'} without a ${labelName} label`);
        return false;
      }
      const start = this.valueStarts[skip] ?? 0;
      const end = this.valueEnds[skip] ?? 0;
      const parsed = this.valueEscaped[skip] ? undefined : parseGoFloat(this.text, start, end);
      if (parsed === undefined || Number.isNaN(parsed)) {
        this.problem(`invalid ${labelName} ${quoted(this.labelValue(skip))}`);
        return false;
      }
      bound = parsed;
    }
    const group = this.groupFor(state, skip, histogram);
    if (skip >= 0 && skip === this.labelCount - 1) {
      // Its next bucket most likely starts with the same text up to the bound: remember it for continueSeries.
      this.seriesPrefix = this.text.slice(this.skipBlanks(this.lineStart), this.valueStarts[skip]);
      this.seriesPrefixGroup = group;
      this.seriesPrefixState = state;
      this.seriesPrefixSuffix = suffix;
    }
    return this.fileGrouped(group, suffix, bound, value, timestampMs);
  }

  /** Files a histogram or summary sample into its series; false when a problem was recorded instead. */
  private fileGrouped(group: SeriesGroup, suffix: number, bound: number, value: number, timestampMs: number | undefined): boolean {
    const series = group.series;
    switch (suffix) {
      case SUFFIX_BUCKET: {
        if (series.kind !== 'histogram') return false;
        if (series.buckets.length > 0 && bound === group.lastLe) {
          this.problem(`repeated bucket le=${String(bound)}`);
          return false;
        }
        if (bound < group.lastLe && !group.unsorted) {
          group.unsorted = true;
          this.unsorted.push(series);
        }
        group.lastLe = bound;
        const bucket: Bucket = { le: bound, count: value };
        series.buckets.push(bucket);
        break;
      }
      case SUFFIX_NONE: {
        if (series.kind !== 'summary') return false;
        const quantile: Quantile = { quantile: bound, value };
        series.quantiles.push(quantile);
        break;
      }
      case SUFFIX_SUM:
      case SUFFIX_GSUM:
        series.sum = value;
        break;
      case SUFFIX_COUNT:
      case SUFFIX_GCOUNT:
        series.count = value;
        break;
      case SUFFIX_CREATED:
        series.created = value;
        return true;
    }
    if (timestampMs !== undefined && series.timestampMs === undefined) series.timestampMs = timestampMs;
    return true;
  }

  /** The series of the current line's labels (less `skip`), made when new; the previous line's series is tried first. */
  private groupFor(state: FamilyState, skip: number, histogram: boolean): SeriesGroup {
    const last = state.lastGroup;
    if (last !== undefined && this.inGroup(last, skip)) return last;
    // A series seen before but not on the line before (its _sum after every series' buckets): found by its whole label
    // set, names and values. A key of values alone put series differing only in label names on one chain, and a
    // hash of any kind can be made to collide by a hostile target; a string key costs one pass over the labels.
    const key = this.labelKey(skip);
    let groups = state.groups;
    if (groups === undefined) {
      groups = new Map();
      state.groups = groups;
    }
    const found = groups.get(key);
    if (found !== undefined) {
      state.lastGroup = found;
      return found;
    }
    const names = this.scratchNames;
    const values: string[] = [];
    for (let index = 0; index < this.labelCount; index++) {
      if (index === skip) continue;
      names[values.length] = this.labelNames[index] ?? '';
      values.push(this.labelValue(index));
    }
    const labels = this.makeLabels(names, values, values.length);
    const series: HistogramSeries | SummarySeries = histogram
      ? { kind: 'histogram', name: state.name, labels, buckets: [] }
      : { kind: 'summary', name: state.name, labels, quantiles: [] };
    // scratchNames is reused for the next line, so the group keeps its own copy.
    const group: SeriesGroup = { series, names: names.slice(0, values.length), values, lastLe: -Infinity, unsorted: false };
    groups.set(key, group);
    state.series.push(series);
    state.lastGroup = group;
    return group;
  }

  private inGroup(group: SeriesGroup, skip: number): boolean {
    const names = group.names;
    if (names.length !== this.labelCount - (skip < 0 ? 0 : 1)) return false;
    let member = 0;
    for (let index = 0; index < this.labelCount; index++) {
      if (index === skip) continue;
      if (this.labelNames[index] !== names[member] || !this.labelValueEquals(index, group.values[member] ?? '')) return false;
      member++;
    }
    return true;
  }
}
