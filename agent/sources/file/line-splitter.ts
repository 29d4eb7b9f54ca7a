export interface SplitLine {
  text: string;
  /** File offset of the line's first byte. */
  offset: number;
  /** File offset just past the line's newline: where reading resumes. */
  end: number;
  truncated: boolean;
}

const NEWLINE = 0x0a;
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

  constructor(private readonly maxLineBytes: number) {}

  /** `chunkOffset` is the file offset of `chunk[0]`; chunks must be contiguous. */
  push(chunk: Buffer, chunkOffset: number): SplitLine[] {
    const lines: SplitLine[] = [];
    let position = 0;
    while (position < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, position);
      if (newline === -1) {
        this.keepPartial(chunk.subarray(position), chunkOffset + position);
        break;
      }
      const end = chunkOffset + newline + 1;
      if (this.partialBytes > 0 || this.overflowed) {
        this.keepPartial(chunk.subarray(position, newline), chunkOffset + position);
        lines.push(this.makeLine(Buffer.concat(this.partial, this.partialBytes), this.partialStart, end, this.overflowed));
        this.reset();
      } else {
        lines.push(this.makeLine(chunk.subarray(position, newline), chunkOffset + position, end, false));
      }
      position = newline + 1;
    }
    return lines;
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

  private makeLine(bytes: Buffer, offset: number, end: number, overflowed: boolean): SplitLine {
    let length = bytes.length;
    if (!overflowed && length > 0 && bytes[length - 1] === CARRIAGE_RETURN) length--;
    const truncated = overflowed || length > this.maxLineBytes;
    if (truncated) length = Math.min(length, this.maxLineBytes);
    // toString replaces invalid UTF-8 with U+FFFD; a cut that splits a character is replaced the same way.
    return { text: bytes.toString('utf8', 0, length), offset, end, truncated };
  }
}
