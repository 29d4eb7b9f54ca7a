import type { LineRecord, LineStage } from '../line-stage.js';
import type { MultilineConfig } from './config.js';
import { multilineRules, type ContinuationRule, type StartRule } from './presets.js';
import { fitUtf8 } from '../utf8-fit.js';

/** Counters for metrics; cumulative since construction, read by the caller. */
export interface MultilineStats {
  /** Records that reached `max_bytes` or `max_lines` and were emitted cut (flagged `truncated`). */
  recordsCut: number;
  /** Lines left out of a cut record: the record's `end` covers them, their text is gone. */
  linesDropped: number;
}

/** The one record being assembled. */
interface Pending {
  /** Supplies `offset`, `time` and `attributes` of the record. */
  first: LineRecord;
  /** Texts of the lines kept so far (the last one possibly cut). */
  parts: string[];
  /** UTF-8 size of `parts` joined with "\n". */
  bytes: number;
  /** End of the last line consumed, dropped lines included. */
  end: number;
  truncated: boolean;
  /** Hit a cap: further continuation lines are dropped until the record ends. */
  cut: boolean;
  state: string;
  /** Tentative lines (see `ContinuationRule.tentative`), not yet part of the record. */
  tail: LineRecord[];
  /** UTF-8 size the tail would add to `bytes`, separators included. */
  tailBytes: number;
  /** `nowMs` of the push that brought the latest line; the flush deadline counts from it. */
  lastLineAt: number;
}

/**
 * Joins the physical lines of a logical record (a stack trace, a panic) into
 * one `LineRecord`, following the rules of a preset or mode (presets.ts).
 *
 * Output: the lines' texts joined with "\n"; `offset`, `time` and
 * `attributes` of the first line; `end` of the last line consumed, including
 * lines dropped after a cut; `truncated` when any line was truncated or the
 * record was cut.
 *
 * Checkpoints: at most one record is pending, and its lines are not returned
 * until it is complete, so a checkpoint at the last returned record's `end`
 * lies before every pending line. After a crash those lines are re-read and,
 * since every record starts from the same empty state, aggregated the same
 * way. The same holds for tentative lines handed back when a record ends and
 * for lines dropped after a cut (the record's `end` covers them, so they are
 * never re-read as a record of their own).
 *
 * Time: the stage is pure; `push` never flushes on time, however late a line
 * arrives, so reading a backlog slowly (backpressure) cannot split records.
 * Only `flushDue` and `flushAll` end a record that no following line ended.
 * The same lines pushed and flushed at the same times give the same records.
 *
 * Streams: a line whose `log.iostream` attribute differs from the record's
 * first line never continues it. Container runtimes interleave stdout and
 * stderr in one file; joining across them would glue unrelated output
 * together. Keeping one pending record (not one per stream) is what keeps
 * checkpoints simple, at the cost of an interleaved line splitting a record.
 *
 * Memory: the pending text stays within `max_bytes` and `max_lines`,
 * tentative lines included.
 */
export class MultilineStage implements LineStage {
  readonly stats: MultilineStats = { recordsCut: 0, linesDropped: 0 };
  private readonly starts: readonly StartRule[];
  private readonly defaultState: string;
  /** Continuation rules by state; a state missing here is terminal. */
  private readonly rulesByState = new Map<string, ContinuationRule[]>();
  private readonly flushTimeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxLines: number;
  private pending: Pending | undefined;

  /** `config` as parsed by `multilineSchema` (durations in ms, sizes in bytes). */
  constructor(config: MultilineConfig) {
    const rules = multilineRules(config);
    this.starts = rules.starts;
    this.defaultState = rules.defaultState;
    for (const rule of rules.continuations) {
      for (const state of rule.from) {
        const list = this.rulesByState.get(state);
        if (list === undefined) this.rulesByState.set(state, [rule]);
        else list.push(rule);
      }
    }
    this.flushTimeoutMs = config.flush_timeout;
    this.maxBytes = config.max_bytes;
    this.maxLines = config.max_lines;
  }

  push(lines: readonly LineRecord[], nowMs: number): LineRecord[] {
    const records: LineRecord[] = [];
    for (const line of lines) this.consume(line, nowMs, records);
    return records;
  }

  flushDue(nowMs: number): LineRecord[] {
    const records: LineRecord[] = [];
    // Handing back a tentative tail can open a new record with the same arrival time, due as well.
    while (this.pending !== undefined && this.pending.lastLineAt + this.flushTimeoutMs <= nowMs) this.close(records);
    return records;
  }

  flushAll(): LineRecord[] {
    const records: LineRecord[] = [];
    while (this.pending !== undefined) this.close(records);
    return records;
  }

  nextDeadline(): number | undefined {
    return this.pending === undefined ? undefined : this.pending.lastLineAt + this.flushTimeoutMs;
  }

  /**
   * File offset of the first line held back, or undefined when nothing is
   * pending. Lines arrive in file order within a stream, so it is the pending
   * record's `offset`; exposed for callers that bound checkpoints across
   * several stages.
   */
  pendingOffset(): number | undefined {
    return this.pending?.first.offset;
  }

  private consume(line: LineRecord, nowMs: number, records: LineRecord[]): void {
    for (;;) {
      const pending = this.pending;
      if (pending === undefined) {
        this.open(line, nowMs);
        this.closeIfTerminal(records);
        return;
      }
      const rule = sameStream(pending.first, line) ? this.continuation(pending.state, line.text) : undefined;
      if (rule !== undefined) {
        pending.state = rule.to;
        pending.lastLineAt = nowMs;
        if (rule.tentative === true && this.tentativeFits(pending, line)) {
          pending.tail.push(line);
          pending.tailBytes += 1 + Buffer.byteLength(line.text, 'utf8');
        } else {
          this.commitTail(pending);
          this.append(pending, line);
        }
        this.closeIfTerminal(records);
        return;
      }
      // The line starts a new record. Closing may hand back tentative lines that open a record of their
      // own, which this line might continue: loop to try it against whatever is pending now.
      this.close(records);
    }
  }

  private continuation(state: string, text: string): ContinuationRule | undefined {
    const rules = this.rulesByState.get(state);
    if (rules === undefined) return undefined;
    return rules.find((rule) => rule.pattern.test(text) !== (rule.negate === true));
  }

  private open(line: LineRecord, nowMs: number): void {
    const state = this.starts.find((start) => start.pattern.test(line.text))?.state ?? this.defaultState;
    const { text, bytes, cut } = fitUtf8(line.text, this.maxBytes);
    this.pending = {
      first: line,
      parts: [text],
      bytes,
      end: line.end,
      truncated: line.truncated,
      cut: false,
      state,
      tail: [],
      tailBytes: 0,
      lastLineAt: nowMs,
    };
    if (cut) this.markCut(this.pending);
  }

  /** A record whose state nothing can continue is complete now; waiting for the timeout would only add latency. */
  private closeIfTerminal(records: LineRecord[]): void {
    const pending = this.pending;
    if (pending !== undefined && !this.rulesByState.has(pending.state)) this.close(records);
  }

  /** Emits the pending record, then replays its tentative lines as if read from its `end`. */
  private close(records: LineRecord[]): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    records.push({ ...pending.first, text: pending.parts.join('\n'), end: pending.end, truncated: pending.truncated });
    for (const line of pending.tail) this.consume(line, pending.lastLineAt, records);
  }

  /**
   * Whether a tentative line can wait in the tail within the caps. When it
   * cannot (or the record is already cut), the tail is committed and capped
   * like any continuation: bounded memory wins over telling whether the
   * blank lines at a cut record's end were its own.
   */
  private tentativeFits(pending: Pending, line: LineRecord): boolean {
    if (pending.cut) return false;
    if (pending.parts.length + pending.tail.length + 1 > this.maxLines) return false;
    return pending.bytes + pending.tailBytes + 1 + Buffer.byteLength(line.text, 'utf8') <= this.maxBytes;
  }

  private commitTail(pending: Pending): void {
    if (pending.tail.length === 0) return;
    for (const line of pending.tail) this.append(pending, line);
    pending.tail = [];
    pending.tailBytes = 0;
  }

  private append(pending: Pending, line: LineRecord): void {
    // Math.max: `end` must never move backwards, even if an upstream stage emits out of file order.
    pending.end = Math.max(pending.end, line.end);
    pending.truncated ||= line.truncated;
    // One byte for the "\n" separator; a line that keeps nothing but the separator is dropped whole.
    const room = this.maxBytes - pending.bytes - 1;
    if (pending.cut || pending.parts.length >= this.maxLines || room < 0) {
      this.drop(pending);
      return;
    }
    const { text, bytes, cut } = fitUtf8(line.text, room);
    if (cut && bytes === 0) {
      this.drop(pending);
      return;
    }
    pending.parts.push(text);
    pending.bytes += 1 + bytes;
    if (cut) this.markCut(pending);
  }

  private drop(pending: Pending): void {
    this.markCut(pending);
    this.stats.linesDropped++;
  }

  private markCut(pending: Pending): void {
    if (pending.cut) return;
    pending.cut = true;
    pending.truncated = true;
    this.stats.recordsCut++;
  }
}

function sameStream(a: LineRecord, b: LineRecord): boolean {
  return a.attributes?.['log.iostream'] === b.attributes?.['log.iostream'];
}
