import type { LineRecord } from '../line-stage.js';
import { fitUtf8 } from '../utf8-fit.js';

export type IoStream = 'stdout' | 'stderr';

/** One physical line of a container log with its envelope parsed off. */
export interface ContainerLine {
  /** The runtime's RFC 3339 timestamp, kept as written (nanosecond precision). */
  time: string;
  stream: IoStream;
  content: string;
  /** The runtime split a longer line here; the following lines of the same stream continue it. */
  partial: boolean;
}

/** Counters the stage exposes for metrics; cumulative since construction. */
export interface ContainerFormatStats {
  /** Lines that did not match their format, passed through with `tributary.parse_error`. */
  malformed: number;
  /** Records cut to `max_bytes`. */
  truncated: number;
  /** Physical lines whose content was discarded because their record had already been cut. */
  partialsDropped: number;
  /** Records still waiting for their final line when the file ended (`flushAll`). */
  unterminated: number;
}

interface Pending {
  chunks: string[];
  bytes: number;
  offset: number;
  end: number;
  time: string;
  truncated: boolean;
  /** Hit `maxBytes`: the rest of the record's lines are dropped until its final line. */
  cut: boolean;
}

/**
 * Joins the pieces a container runtime split a long line into (CRI `P` lines,
 * Docker json-file entries without a trailing "\n"), separately per stream:
 * the runtime copies stdout and stderr independently, so their pieces can
 * interleave in the file.
 *
 * Ordering: a record is returned when its final line arrives, so records come
 * out in order of completion, not of their first line. Holding a finished
 * stderr record back until an older stdout record finishes would delay it
 * behind a line that may never end and would let held records pile up without
 * bound; completion order keeps memory at one pending record per stream. It
 * means record offsets are not monotonic: checkpoints must not pass
 * `pendingOffset()`.
 *
 * A cut record is still returned only at its final line, spanning all its
 * lines, like the line splitter cuts long lines: every physical line belongs
 * to exactly one record and `end` stays a record boundary for checkpoints.
 * Pending text is bounded by `maxBytes` per stream.
 */
export class PartialAssembler {
  private readonly pending = new Map<IoStream, Pending>();

  constructor(
    private readonly maxBytes: number,
    private readonly stats: ContainerFormatStats,
  ) {}

  /** Adds a parsed line; returns the record it completes, if any. */
  add(line: LineRecord, parsed: ContainerLine): LineRecord | undefined {
    const open = this.pending.get(parsed.stream);
    if (open === undefined && !parsed.partial) {
      // The common case, a whole line: no pending state to build.
      // A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4): short lines need no measuring.
      const { text, cut } = parsed.content.length * 3 <= this.maxBytes ? { text: parsed.content, cut: false } : fitUtf8(parsed.content, this.maxBytes);
      if (cut) this.stats.truncated++;
      return record(text, line.offset, line.end, line.truncated || cut, parsed.time, parsed.stream);
    }
    const pending = open ?? this.open(line, parsed);
    this.append(pending, parsed.content);
    pending.end = line.end;
    pending.truncated ||= line.truncated;
    if (parsed.partial) return undefined;
    this.pending.delete(parsed.stream);
    return this.complete(pending, parsed.stream);
  }

  /** Pending records, oldest first, flagged truncated: their final line will never come. */
  flushAll(): LineRecord[] {
    const entries = [...this.pending].sort(([, a], [, b]) => a.offset - b.offset);
    this.pending.clear();
    return entries.map(([stream, pending]) => {
      this.stats.unterminated++;
      pending.truncated = true;
      return this.complete(pending, stream);
    });
  }

  /** File offset of the oldest line still waiting in a pending record. */
  pendingOffset(): number | undefined {
    let oldest: number | undefined;
    for (const pending of this.pending.values()) if (oldest === undefined || pending.offset < oldest) oldest = pending.offset;
    return oldest;
  }

  private open(line: LineRecord, parsed: ContainerLine): Pending {
    // The first piece's time: when the runtime started writing the line.
    const pending: Pending = { chunks: [], bytes: 0, offset: line.offset, end: line.end, time: parsed.time, truncated: false, cut: false };
    this.pending.set(parsed.stream, pending);
    return pending;
  }

  private append(pending: Pending, content: string): void {
    if (pending.cut) {
      this.stats.partialsDropped++;
      return;
    }
    const { text, bytes, cut } = fitUtf8(content, this.maxBytes - pending.bytes);
    if (text.length > 0) pending.chunks.push(text);
    pending.bytes += bytes;
    if (cut) {
      pending.cut = true;
      pending.truncated = true;
      this.stats.truncated++;
    }
  }

  private complete(pending: Pending, stream: IoStream): LineRecord {
    return record(pending.chunks.join(''), pending.offset, pending.end, pending.truncated, pending.time, stream);
  }
}

function record(text: string, offset: number, end: number, truncated: boolean, time: string, stream: IoStream): LineRecord {
  return { text, offset, end, truncated, time, attributes: { 'log.iostream': stream } };
}
