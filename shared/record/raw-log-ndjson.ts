import { isAscii } from 'node:buffer';
import type { EventIdScope } from './event-id.js';
import type { RawLogEvent } from './raw-event.js';

/** What every event of one file shares: everything but id, observed_at, body, offset and the truncated flag. */
export interface RawLogFileFields {
  host: string;
  agentId: string;
  sourceName: string;
  path: string;
  fileId: string;
  /** Omitted from the events when undefined (callers pass undefined for no labels). */
  labels: Record<string, string> | undefined;
}

/** A raw log event as the agent serializes it: `RawLogEvent` plus the flag of a cut line. */
export type SerializedRawLogEvent = RawLogEvent & { truncated?: true };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
/** Per body byte, the most the serialized body can take: a control byte becomes `\u00XX`. */
const MAX_EXPANSION = 6;
const MAX_DECIMAL_DIGITS = 16;
const INITIAL_CAPACITY = 64 * 1024;
/** A writer whose buffer grew past this for one huge line gives the memory back at the next `take`. */
const RETAINED_CAPACITY = 1024 * 1024;

/**
 * Serializes raw log events (schema `raw.log.v1`) straight from the bytes of
 * the file into UTF-8 NDJSON, byte for byte what
 * `JSON.stringify(event) + "\n"` gives for the event the tailer used to build,
 * with `body` = `bytes.toString('utf8', start, end)`:
 *
 *   {"id":…,"observed_at":…,"body":…,"host":…,"agent_id":…,
 *    "source":{"type":"file","name":…,"path":…,"file_id":…,"offset":N}[,"labels":{…}][,"truncated":true]}
 *
 * Why it is exactly equivalent:
 * - every string except the body (host, ids, path, labels, observed_at) is
 *   serialized with JSON.stringify itself, once per file or per chunk;
 * - a body whose bytes hold nothing JSON escapes in UTF-8 input — no byte below
 *   0x20, no `"` and no `\` — is copied raw between quotes. Other bytes never
 *   need escaping: a valid multi-byte sequence decodes to a character at or
 *   above U+0080 that JSON.stringify leaves alone (U+2028 included), and UTF-8
 *   cannot encode a lone surrogate (the only non-ASCII characters it escapes).
 *   Invalid sequences are left in the bytes and `take` decodes the whole batch
 *   as UTF-8, which replaces them with U+FFFD exactly as decoding the line alone
 *   would: the decoder restarts at the ASCII `"` that follows every body;
 * - any other body is decoded and passed through JSON.stringify;
 * - offsets are safe non-negative integers, which JSON writes as plain digits.
 * The unit tests compare the output with JSON.stringify on hostile input.
 *
 * `take` returns at most one batch's text at a time so the caller can keep
 * strings small (V8 allocates strings over 128 KiB in a slow space).
 */
export class RawLogNdjsonWriter {
  private buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private length = 0;
  private events = 0;
  private head = Buffer.alloc(0);
  private readonly middle: Buffer;
  private readonly tail: Buffer;
  private readonly tailTruncated: Buffer;
  /** The most the fixed parts of one event take; the body is added per line. */
  private readonly fixedBytes: number;
  private readonly scanner = new EscapeScanner();

  constructor(
    fields: RawLogFileFields,
    private readonly ids: EventIdScope,
  ) {
    const json = JSON.stringify;
    this.middle = Buffer.from(
      `,"host":${json(fields.host)},"agent_id":${json(fields.agentId)},"source":{"type":"file","name":${json(fields.sourceName)},"path":${json(fields.path)},"file_id":${json(fields.fileId)},"offset":`,
    );
    const labels = fields.labels === undefined ? '' : `,"labels":${json(fields.labels)}`;
    this.tail = Buffer.from(`}${labels}}\n`);
    this.tailTruncated = Buffer.from(`}${labels},"truncated":true}\n`);
    this.fixedBytes = '{"id":"'.length + 32 + this.middle.length + MAX_DECIMAL_DIGITS + this.tailTruncated.length + 2;
    this.setObservedAt(new Date(0).toISOString());
  }

  /**
   * Starts on a new read: sets `observed_at` for the lines that follow. Bytes
   * passed to `add` must not change until `finishChunk`.
   */
  startChunk(observedAt: string): void {
    this.setObservedAt(observedAt);
    this.scanner.reset();
  }

  /** Forgets the read's buffers (the scanner's memory of them, and the reference). */
  finishChunk(): void {
    this.scanner.reset();
  }

  /** Serializes one line whose UTF-8 content is `bytes[start, end)`. */
  add(bytes: Buffer, start: number, end: number, offset: number, truncated: boolean): void {
    this.reserve(this.fixedBytes + this.head.length + MAX_EXPANSION * (end - start));
    const out = this.buffer;
    let at = this.length;
    out[at++] = 0x7b; // {"id":"
    out[at++] = QUOTE;
    out[at++] = 0x69;
    out[at++] = 0x64;
    out[at++] = QUOTE;
    out[at++] = 0x3a;
    out[at++] = QUOTE;
    at = this.ids.write(offset, out, at);
    out.set(this.head, at);
    at += this.head.length;
    if (this.scanner.needsEscape(bytes, start, end)) {
      at += out.write(JSON.stringify(bytes.toString('utf8', start, end)), at, 'utf8');
    } else {
      out[at++] = QUOTE;
      at += bytes.copy(out, at, start, end);
      out[at++] = QUOTE;
    }
    out.set(this.middle, at);
    at += this.middle.length;
    at = writeDecimal(offset, out, at);
    const tail = truncated ? this.tailTruncated : this.tail;
    out.set(tail, at);
    this.length = at + tail.length;
    this.events++;
  }

  /** UTF-8 bytes serialized since the last `take`. */
  get byteLength(): number {
    return this.length;
  }

  /** Events serialized since the last `take`. */
  get eventCount(): number {
    return this.events;
  }

  /** The NDJSON of the events added since the last `take`; starts empty again. */
  take(): string {
    const bytes = this.buffer.subarray(0, this.length);
    // Same text either way for ASCII; latin1 decoding is the cheaper copy.
    const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
    this.length = 0;
    this.events = 0;
    if (this.buffer.length > RETAINED_CAPACITY) this.buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
    return text;
  }

  private setObservedAt(observedAt: string): void {
    this.head = Buffer.from(`","observed_at":${JSON.stringify(observedAt)},"body":`);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** Writes a safe non-negative integer in decimal ASCII at `at`; returns the index after it. */
function writeDecimal(value: number, out: Buffer, at: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let index = at + digits - 1; index >= at; index--) {
    const next = Math.floor(rest / 10);
    out[index] = 0x30 + (rest - next * 10);
    rest = next;
  }
  return at + digits;
}

/**
 * Answers "does `bytes[start, end)` hold a byte that a JSON string must
 * escape (below 0x20, `"` or `\`)?" for consecutive ranges of one buffer in
 * one pass over it: it remembers the next such byte at or after where it last
 * looked, so it only looks again once a range passes it. Newlines are not
 * reported (they separate the lines, which never contain them). The quotes and
 * backslashes are found with `indexOf` (memchr); control bytes four at a time.
 */
export class EscapeScanner {
  private bytes: Buffer | undefined;
  private words: Int32Array | undefined;
  /** Index in `bytes` of the first byte of `words`. */
  private wordsStart = 0;
  private nextQuote = -1;
  private nextBackslash = -1;
  private nextControl = -1;

  /** Forget the current buffer (its content may change). */
  reset(): void {
    this.bytes = undefined;
    this.words = undefined;
  }

  needsEscape(bytes: Buffer, start: number, end: number): boolean {
    if (bytes !== this.bytes) this.use(bytes);
    if (this.nextQuote < start) this.nextQuote = found(bytes.indexOf(QUOTE, start), bytes.length);
    if (this.nextBackslash < start) this.nextBackslash = found(bytes.indexOf(BACKSLASH, start), bytes.length);
    if (this.nextControl < start) this.nextControl = this.findControl(start);
    return this.nextQuote < end || this.nextBackslash < end || this.nextControl < end;
  }

  private use(bytes: Buffer): void {
    this.bytes = bytes;
    this.nextQuote = -1;
    this.nextBackslash = -1;
    this.nextControl = -1;
    const misalignment = bytes.byteOffset & 3;
    this.wordsStart = misalignment === 0 ? 0 : 4 - misalignment;
    const wordCount = bytes.length > this.wordsStart ? (bytes.length - this.wordsStart) >>> 2 : 0;
    this.words = wordCount === 0 ? new Int32Array(0) : new Int32Array(bytes.buffer, bytes.byteOffset + this.wordsStart, wordCount);
  }

  /** The index of the first control byte other than "\n" at or after `from`, or the buffer's length. */
  private findControl(from: number): number {
    // Everything the loops need is read before them: optimized code entered in the middle of the
    // word loop (on-stack replacement) must not meet a property access it has no feedback for after
    // it, or it deoptimizes on every buffer.
    const bytes = this.bytes as Buffer;
    const words = this.words as Int32Array;
    const length = bytes.length;
    const wordsStart = this.wordsStart;
    const wordsEnd = wordsStart + words.length * 4;
    // Bytes before the first whole word at or after `from`, then whole words, then the bytes after the last word.
    const firstWord = from <= wordsStart ? wordsStart : wordsStart + ((from - wordsStart + 3) & ~3);
    const headEnd = Math.min(firstWord, length);
    let index = from;
    for (; index < headEnd; index++) {
      const byte = bytes[index] as number;
      if (byte < 0x20 && byte !== NEWLINE) return index;
    }
    for (let word = (index - wordsStart) >>> 2; index < wordsEnd; word++, index += 4) {
      const value = words[word] as number;
      // Non-zero exactly when one of the four bytes is below 0x20 (the "hasless" bit trick; borrows
      // can only mark bytes above the lowest such byte, so the test itself is exact).
      if (((value - 0x20202020) & ~value & 0x80808080) !== 0) {
        for (let byte = index; byte < index + 4; byte++) {
          const value = bytes[byte] as number;
          if (value < 0x20 && value !== NEWLINE) return byte;
        }
      }
    }
    for (; index < length; index++) {
      const byte = bytes[index] as number;
      if (byte < 0x20 && byte !== NEWLINE) return index;
    }
    return length;
  }
}

function found(index: number, notFound: number): number {
  return index === -1 ? notFound : index;
}
