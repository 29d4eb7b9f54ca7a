import { codecFor, type NewlineCodec } from './encoding.js';

export interface SplitLine {
  text: string;
  /** File offset of the line's first byte. */
  offset: number;
  /** File offset just past the line's newline: where reading resumes. */
  end: number;
  truncated: boolean;
  /** The bytes were not valid in the source encoding; invalid sequences became U+FFFD. */
  invalid?: boolean;
}

/**
 * One line for `LineSplitter.forEachLine`: its content is `bytes[start, end)`
 * (without the newline and a trailing "\r", cut to the cap), `offset` is the
 * file offset of its first byte and `lineEnd` the file offset just past its newline.
 */
export type LineVisitor = (bytes: Buffer, start: number, end: number, offset: number, lineEnd: number, truncated: boolean) => void;

const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into lines at "\n" (a trailing "\r" is dropped) while
 * tracking file offsets. Of a line longer than `maxLineBytes` only the first
 * `maxLineBytes` are kept and the line is flagged; it is still emitted only at
 * its newline, so `end` is always a line boundary and checkpoints never point
 * into the middle of a line. Memory stays bounded by the cap whatever the file
 * holds. Splitting bytes, not decoded text, keeps multi-byte UTF-8 sequences
 * whole across chunk boundaries.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private partialStart = 0;
  private overflowed = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly codec: NewlineCodec = codecFor('utf-8'),
  ) {}

  /** `chunkOffset` is the file offset of `chunk[0]`; chunks must be contiguous. */
  push(chunk: Buffer, chunkOffset: number): SplitLine[] {
    const lines: SplitLine[] = [];
    this.forEachLine(chunk, chunkOffset, (bytes, start, end, offset, lineEnd, truncated) => {
      // Decoding replaces invalid sequences with U+FFFD; a cut that splits a character is replaced the same way.
      const { text, invalid } = this.codec.decode(bytes.subarray(start, end), offset);
      lines.push(invalid ? { text, offset, end: lineEnd, truncated, invalid } : { text, offset, end: lineEnd, truncated });
    });
    return lines;
  }

  /**
   * Like `push`, without decoding or allocating per line: calls `visit` for
   * every complete line with the bytes that hold it. `chunk` itself is passed
   * for lines wholly inside it, so the bytes are only valid during the call.
   */
  forEachLine(chunk: Buffer, chunkOffset: number, visit: LineVisitor): void {
    const length = chunk.length;
    let position = 0;
    while (position < length) {
      const newline = this.codec.indexOfNewline(chunk, position, chunkOffset);
      if (newline === -1) {
        this.keepPartial(chunk.subarray(position), chunkOffset + position);
        break;
      }
      const lineEnd = chunkOffset + newline + this.codec.newlineBytes;
      if (this.partialBytes > 0 || this.overflowed) {
        this.keepPartial(chunk.subarray(position, newline), chunkOffset + position);
        const bytes = Buffer.concat(this.partial, this.partialBytes);
        const offset = this.partialStart;
        const overflowed = this.overflowed;
        this.reset();
        this.emit(bytes, 0, bytes.length, offset, lineEnd, overflowed, visit);
      } else {
        this.emit(chunk, position, newline, chunkOffset + position, lineEnd, false, visit);
      }
      position = newline + this.codec.newlineBytes;
    }
  }

  /**
   * The unfinished line as a line of its own, or undefined when there is none: for a file that ended without a
   * final newline for good (rotated away or deleted and not grown for `rotate_wait`). `end` is the file offset just
   * past its last byte read, where reading would resume.
   */
  takePartial(end: number): SplitLine | undefined {
    if (!this.hasPartial) return undefined;
    const bytes = Buffer.concat(this.partial, this.partialBytes);
    const offset = this.partialStart;
    const overflowed = this.overflowed;
    this.reset();
    let line: SplitLine | undefined;
    this.emit(bytes, 0, bytes.length, offset, end, overflowed, (held, start, contentEnd, lineOffset, lineEnd, truncated) => {
      const { text, invalid } = this.codec.decode(held.subarray(start, contentEnd), lineOffset);
      line = invalid ? { text, offset: lineOffset, end: lineEnd, truncated, invalid } : { text, offset: lineOffset, end: lineEnd, truncated };
    });
    return line;
  }

  /** Bytes of an unfinished line are waiting for their newline. */
  get hasPartial(): boolean {
    return this.partialBytes > 0 || this.overflowed;
  }

  reset(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.overflowed = false;
  }

  private keepPartial(bytes: Buffer, offset: number): void {
    if (this.partialBytes === 0 && !this.overflowed) this.partialStart = offset;
    const room = this.maxLineBytes + 1 - this.partialBytes;
    if (room <= 0 || bytes.length === 0) {
      this.overflowed ||= bytes.length > 0;
      return;
    }
    // Copy: the caller reuses its read buffer.
    const kept = Buffer.from(bytes.subarray(0, room));
    this.partial.push(kept);
    this.partialBytes += kept.length;
    if (bytes.length > room) this.overflowed = true;
  }

  private emit(bytes: Buffer, start: number, end: number, offset: number, lineEnd: number, overflowed: boolean, visit: LineVisitor): void {
    let contentEnd = end;
    // A one-byte "\r" only: in UTF-16 the codec strips the two-byte one when decoding.
    if (!overflowed && this.codec.newlineBytes === 1 && contentEnd > start && bytes[contentEnd - 1] === CARRIAGE_RETURN) contentEnd--;
    const truncated = overflowed || contentEnd - start > this.maxLineBytes;
    if (truncated) contentEnd = Math.min(contentEnd, start + this.maxLineBytes);
    visit(bytes, start, contentEnd, offset, lineEnd, truncated);
  }
}
