import type { SplitLine } from './line-splitter.js';

/**
 * A line after optional per-format processing. `offset` is the file offset of
 * its first byte and `end` the offset just past its last newline; a record
 * assembled from several physical lines (multiline, CRI partials) spans from
 * the first line's `offset` to the last line's `end`, so checkpoints taken at
 * `end` never split a record.
 */
export interface LineRecord extends SplitLine {
  /** Attributes found while parsing the line's envelope, e.g. `log.iostream` for CRI and Docker lines. */
  attributes?: Record<string, string>;
  /** RFC 3339 time from the line's envelope (CRI, Docker), when it has one. */
  time?: string;
}

/**
 * A pure, synchronous stage between the line splitter and event building
 * (container-format parsing, multiline aggregation). Stages hold at most a
 * bounded amount of pending text. They never emit a record before all its
 * lines arrived, except when a flush deadline passes or a size cap is hit.
 */
export interface LineStage {
  /** Feeds lines in file order; returns the records completed by them, in order. */
  push(lines: readonly LineRecord[], nowMs: number): LineRecord[];
  /** Records whose flush deadline is at or before `nowMs`. */
  flushDue(nowMs: number): LineRecord[];
  /** Everything pending, as records (the file is finished: deleted or rotated away and fully read). */
  flushAll(): LineRecord[];
  /** The earliest time `flushDue` would return something, or undefined when nothing is pending. */
  nextDeadline(): number | undefined;
  /**
   * File offset of the first line the stage still holds, or undefined. A
   * checkpoint must not pass it: records can complete out of order (a CRI
   * stderr record while a stdout partial waits), so "end of the last record"
   * alone could skip held lines after a crash.
   */
  pendingOffset(): number | undefined;
}
