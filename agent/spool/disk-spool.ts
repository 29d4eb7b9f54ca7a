import { mkdir, open, readFile, readdir, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleTemporaries, replaceFileAtomically } from '../checkpoint/atomic-file.js';
import { TributaryError, errorMessage } from '../../shared/errors.js';
import { SerialQueue } from '../../shared/pipeline/serial-queue.js';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  decodePayload,
  decodeRecordHeader,
  decodeSegmentHeader,
  encodeRecord,
  encodeSegmentHeader,
  payloadIntact,
  plausibleRecordAt,
  recordEventCount,
  stampRecord,
  type RecordHeader,
  type SpoolEntry,
  type StreamPoint,
} from './spool-format.js';

export type { SpoolEntry } from './spool-format.js';

/**
 * Where an entry ends in the spool: hand it back to `acknowledge`. Opaque to
 * callers; the fields are readable for logs only.
 */
export interface SpoolPosition extends StreamPoint {
  readonly segment: number;
  readonly offset: number;
}

export interface SpooledEntry extends SpoolEntry {
  readonly position: SpoolPosition;
}

/** Entries the spool lost, reported once each: pushed out by the size cap, or unreadable on disk. */
export interface SpoolDrop {
  entries: number;
  events: number;
  /** On-disk bytes of the dropped records, framing included. */
  bytes: number;
  reason: 'size_cap' | 'corrupt';
}

export interface SpoolStats {
  /** Bytes of the segment files on disk: what `maxBytes` caps (an acknowledged prefix of the segment being written counts until it is rolled away). */
  bytes: number;
  /** Entries not yet acknowledged, whether handed out by `read` or not. */
  entries: number;
  events: number;
  segments: number;
}

export interface DiskSpoolOptions {
  dir: string;
  /** Cap on the segment files' total size; the oldest segments are dropped (and counted) to stay under it. */
  maxBytes: number;
  /** A segment is rolled once it holds this many bytes; it is the unit of deletion and of dropping. */
  segmentBytes: number;
  /** Sync data before `append` resolves and the cursor before `acknowledge` resolves; without it a power loss may lose recent appends uncounted. */
  fsync: boolean;
  /** Called synchronously, once per loss; must not throw. */
  onDrop: (drop: SpoolDrop) => void;
}

/** A place in the spool: the boundary before the record at `segment`/`offset`. Same shape as a `SpoolPosition`. */
type Point = SpoolPosition;

interface Segment {
  readonly id: number;
  /** Where the stream stood when the segment was created (from its header). */
  readonly start: Point;
  /** Committed bytes: records past this are not visible to readers (yet). */
  size: number;
}

/** Entries known to be lost to damage, already reported; kept so that later counts leave them out. */
interface Hole {
  readonly from: StreamPoint;
  readonly to: StreamPoint;
}

/** Entries handed out by `read`, not acknowledged, whose segment the size cap deleted: delivered if acknowledged, dropped if rewound. */
interface InFlightDrop {
  from: Point;
  readonly to: Point;
  bytes: number;
}

interface PendingAppend {
  readonly record: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Cursor {
  version: 1;
  segment: number;
  offset: number;
  seq: number;
  events: number;
}

const CURSOR_FILE = 'cursor.json';
const SEGMENT_FILE = /^(\d{20})\.seg$/;
const READ_WINDOW_BYTES = 256 * 1024;
/** Records per write call and per group commit; stays under IOV_MAX. */
const MAX_RECORDS_PER_WRITE = 256;
const MAX_BYTES_PER_WRITE = 4 * 1024 * 1024;

const later = (a: Point, b: Point): Point => (b.seq > a.seq ? b : a);
const earlier = (a: Point, b: Point): Point => (b.seq < a.seq ? b : a);
const streamPoint = (point: StreamPoint): StreamPoint => ({ seq: point.seq, events: point.events });

/**
 * A bounded, crash-safe, ordered on-disk queue of frames, for what cannot be
 * re-read (scrapes): append, read in order, acknowledge what was delivered.
 *
 * Segment files hold the records (format in spool-format.ts); `cursor.json`
 * says how far delivery got and is replaced atomically, so a restart resends
 * at most what was in flight. Every operation runs in one queue, so order is
 * append order and reads never race the size cap's deletions; concurrent
 * appends share one write and one fsync (group commit).
 *
 * Reading: `read` returns what is there now, possibly `[]`; `waitForData`
 * resolves when there is something to read. After a failed send, `rewind`
 * re-delivers from the last acknowledgement. Acknowledge what was delivered
 * before rewinding: that is what keeps drop counts exact when the size cap
 * deleted entries that were in flight.
 *
 * Accounting is exact by construction: every record carries its stream point
 * (entries and events before it), so what a dropped or damaged stretch held
 * is a subtraction between two intact points, never a guess.
 */
export class DiskSpool {
  private readonly segments: Segment[] = [];
  private diskBytes = 0;
  /** Where the next record goes: in the last segment while `writer` is open, else at the start of the next segment to create. */
  private end: Point = { segment: 0, offset: SEGMENT_HEADER_BYTES, seq: 0, events: 0 };
  private ack: Point = this.end;
  private readPos: Point = this.end;
  private handedOut = 0;
  private nextSegmentId = 0;
  private holes: Hole[] = [];
  private inFlightDrops: InFlightDrop[] = [];
  private writer: FileHandle | undefined;
  private reader: SegmentReader | undefined;
  private pending: PendingAppend[] = [];
  private flushQueued = false;
  /** Every operation, in order: appends, reads, acknowledgements, rewinds and the close never overlap. */
  private readonly queue = new SerialQueue();
  private closing: Promise<void> | undefined;
  /** Set when a failed write could not be undone: appends would no longer be trustworthy. */
  private failure: TributaryError | undefined;
  private readonly dataWaiters = new Set<(ready: boolean) => void>();

  private constructor(private readonly options: DiskSpoolOptions) {}

  /** Recovers what the directory holds: torn tails are truncated, damage is reported through `onDrop` before this resolves. */
  static async open(options: DiskSpoolOptions): Promise<DiskSpool> {
    if (!Number.isSafeInteger(options.segmentBytes) || options.segmentBytes <= SEGMENT_HEADER_BYTES) {
      throw new TributaryError('CONFIG_INVALID', `spool segmentBytes must be an integer above ${SEGMENT_HEADER_BYTES}, got ${options.segmentBytes}`);
    }
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < options.segmentBytes) {
      throw new TributaryError('CONFIG_INVALID', `spool maxBytes (${options.maxBytes}) must be an integer of at least segmentBytes (${options.segmentBytes})`);
    }
    const spool = new DiskSpool(options);
    try {
      await mkdir(options.dir, { recursive: true });
      await spool.recover();
    } catch (error) {
      await spool.releaseFiles();
      if (error instanceof TributaryError) throw error;
      throw new TributaryError('INTERNAL', `cannot open spool ${options.dir}: ${errorMessage(error)}`, { cause: error });
    }
    return spool;
  }

  get stats(): SpoolStats {
    const unacknowledged = this.count(later(this.ack, this.segments[0]?.start ?? this.end), this.end);
    return { bytes: this.diskBytes, ...unacknowledged, segments: this.segments.length };
  }

  /**
   * Resolves once the entry is written (and synced, with `fsync`); it is then
   * read back in append order. Past `maxBytes` the oldest segments are
   * dropped first. Rejects with FRAME_TOO_LARGE for an entry that could
   * never fit, and after `close`.
   */
  append(entry: SpoolEntry): Promise<void> {
    if (this.closing) return Promise.reject(new TributaryError('SHUTDOWN', `spool ${this.options.dir} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    let record: Buffer;
    try {
      record = encodeRecord(entry);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (record.length + SEGMENT_HEADER_BYTES > this.options.maxBytes) {
      return Promise.reject(
        new TributaryError('FRAME_TOO_LARGE', `spool entry of ${record.length} bytes can never fit under max_bytes ${this.options.maxBytes}`, {
          context: { key: entry.key, bytes: record.length },
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        void this.queue.run(() => this.flush());
      }
    });
  }

  /**
   * The oldest entries not yet handed out, in append order: at most
   * `maxEntries`, and at most `maxBytes` of record payload unless a single
   * entry is larger. `[]` when there is nothing to read (see `waitForData`).
   */
  read(limits: { maxEntries: number; maxBytes: number }): Promise<SpooledEntry[]> {
    if (this.closing) return Promise.reject(new TributaryError('SHUTDOWN', `spool ${this.options.dir} is closed`));
    return this.queue.run(() => this.readEntries(limits));
  }

  /** Resolves true when `read` has something to return, false when the signal aborts or the spool closes. */
  waitForData(signal?: AbortSignal): Promise<boolean> {
    if (this.closing || signal?.aborted) return Promise.resolve(false);
    if (this.readable()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const settle = (ready: boolean): void => {
        this.dataWaiters.delete(settle);
        signal?.removeEventListener('abort', onAbort);
        resolve(ready);
      };
      const onAbort = (): void => settle(false);
      this.dataWaiters.add(settle);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Everything up to and including the entry at `position` was delivered:
   * persists the cursor and deletes segments delivered in full. Older and
   * repeated positions, and positions in segments the size cap dropped, are
   * harmless.
   */
  acknowledge(position: SpoolPosition): Promise<void> {
    if (this.closing) return Promise.reject(new TributaryError('SHUTDOWN', `spool ${this.options.dir} is closed`));
    return this.queue.run(async () => {
      if (position.seq <= this.ack.seq) return;
      if (position.seq > this.handedOut) {
        throw new TributaryError('INTERNAL', `spool acknowledgement for entry ${position.seq - 1}, which was never handed out (last: ${this.handedOut - 1})`);
      }
      this.ack = { segment: position.segment, offset: position.offset, seq: position.seq, events: position.events };
      this.settleInFlightDrops();
      if (this.readPos.seq < this.ack.seq) this.readPos = this.ack;
      this.holes = this.holes.filter((hole) => hole.to.seq > this.ack.seq);
      await this.writeCursor();
      await this.deleteAcknowledgedSegments();
    });
  }

  /** Hands out again everything after the last acknowledgement, in order, from the next `read` on. */
  rewind(): void {
    if (this.closing) return;
    void this.queue.run(() => this.rewindNow());
  }

  /** Waits for queued work, reports in-flight entries the size cap deleted as dropped, and closes the files. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    for (const settle of [...this.dataWaiters]) settle(false);
    await this.queue.run(async () => {
      this.reportInFlightDrops();
      await this.releaseFiles();
    });
  }

  private segmentPath(id: number): string {
    return join(this.options.dir, `${String(id).padStart(20, '0')}.seg`);
  }

  private readable(): boolean {
    return this.readPos.seq < this.end.seq;
  }

  private notifyReadable(): void {
    if (!this.readable()) return;
    for (const settle of [...this.dataWaiters]) settle(true);
  }

  /** Entries and events between two points, minus the holes already reported. */
  private count(from: StreamPoint, to: StreamPoint): { entries: number; events: number } {
    let entries = to.seq - from.seq;
    let events = to.events - from.events;
    if (entries <= 0) return { entries: 0, events: 0 };
    for (const hole of this.holes) {
      if (hole.from.seq >= from.seq && hole.to.seq <= to.seq) {
        entries -= hole.to.seq - hole.from.seq;
        events -= hole.to.events - hole.from.events;
      }
    }
    return { entries, events };
  }

  private report(drop: SpoolDrop): void {
    if (drop.entries > 0) this.options.onDrop(drop);
  }

  /** Records and reports damage once: re-reading it after a rewind finds the same hole. */
  private noteHole(from: StreamPoint, to: StreamPoint, bytes: number): void {
    if (to.seq <= from.seq || this.holes.some((hole) => hole.from.seq === from.seq)) return;
    this.holes.push({ from: streamPoint(from), to: streamPoint(to) });
    this.report({ entries: to.seq - from.seq, events: to.events - from.events, bytes, reason: 'corrupt' });
  }

  // ---- recovery ------------------------------------------------------------

  private async recover(): Promise<void> {
    const names = await readdir(this.options.dir);
    await removeStaleTemporaries(join(this.options.dir, CURSOR_FILE));
    const ids = names
      .map((name) => SEGMENT_FILE.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const cursor = await this.readCursor();
    this.nextSegmentId = Math.max(ids.at(-1) ?? -1, cursor?.segment ?? -1) + 1;

    let expected: { point: StreamPoint; danglingBytes: number } | undefined;
    for (const [index, id] of ids.entries()) {
      // Delivered in full before the last run stopped; the deletion just had not happened yet.
      if (cursor && id < cursor.segment) {
        await unlink(this.segmentPath(id));
        continue;
      }
      const recovered = await this.recoverSegment(id, index === ids.length - 1, cursor, expected);
      if (recovered) expected = recovered;
    }

    let streamEnd: StreamPoint = expected?.point ?? cursor ?? { seq: 0, events: 0 };
    // With fsync off, a power loss can take appends the cursor already counted as delivered; never number anything twice.
    if (cursor && cursor.seq > streamEnd.seq) streamEnd = cursor;
    const last = this.segments.at(-1);
    this.end =
      last && this.writer
        ? { segment: last.id, offset: last.size, ...streamPoint(streamEnd) }
        : { segment: this.nextSegmentId, offset: SEGMENT_HEADER_BYTES, ...streamPoint(streamEnd) };

    if (cursor) {
      const segment = this.segments.find((candidate) => candidate.id === cursor.segment);
      this.ack = { segment: cursor.segment, offset: segment ? Math.min(cursor.offset, segment.size) : cursor.offset, seq: cursor.seq, events: cursor.events };
    } else {
      this.ack = this.segments[0]?.start ?? this.end;
    }
    this.readPos = this.ack;
    this.handedOut = this.ack.seq;
  }

  /**
   * Scans one segment's record headers (payloads are checked when read).
   * Damage is skipped by searching for the next intact record; what it cost
   * is the difference between the stream points on either side. The last
   * segment's damaged tail is a torn write (a crash mid-append, never
   * acknowledged to the caller) and is truncated without a report.
   */
  private async recoverSegment(
    id: number,
    isLast: boolean,
    cursor: Cursor | undefined,
    previous: { point: StreamPoint; danglingBytes: number } | undefined,
  ): Promise<{ point: StreamPoint; danglingBytes: number } | undefined> {
    const path = this.segmentPath(id);
    const reader = await SegmentReader.open(path, id);
    try {
      const size = await reader.size();
      let start = decodeSegmentHeader(await reader.bytes(0, SEGMENT_HEADER_BYTES));
      if (start && previous && start.seq < previous.point.seq) start = undefined;
      if (start && previous && start.seq > previous.point.seq) this.noteHole(previous.point, start, previous.danglingBytes);

      const cursorHere = cursor?.segment === id ? cursor : undefined;
      let point: StreamPoint | undefined = cursorHere ?? start ?? previous?.point;
      let offset = cursorHere ? Math.max(SEGMENT_HEADER_BYTES, Math.min(cursorHere.offset, size)) : SEGMENT_HEADER_BYTES;
      if (point === undefined) {
        // The first segment, with a damaged header: its first intact record says where the stream stood.
        const found = await findRecord(reader, offset, size, cursor ?? { seq: 0, events: 0 });
        if (found) {
          point = found.header;
          offset = found.offset;
        }
      }
      if (point === undefined) return await this.discardUnreadable(reader, path, size, previous);
      const segmentStart = { segment: id, offset: SEGMENT_HEADER_BYTES, ...streamPoint(start ?? point) };

      let lastRecord: { offset: number; header: RecordHeader; before: StreamPoint } | undefined;
      while (offset < size) {
        const header = decodeRecordHeader(await reader.bytes(offset, RECORD_HEADER_BYTES));
        if (header && fitsAfter(header, point, offset, size)) {
          if (header.seq > point.seq) this.noteHole(point, header, 0);
          lastRecord = { offset, header, before: point };
          point = { seq: header.seq + 1, events: header.events + header.eventCount };
          offset += RECORD_HEADER_BYTES + header.payloadBytes;
          continue;
        }
        const found = await findRecord(reader, offset + 1, size, point);
        if (!found) break;
        this.noteHole(point, found.header, found.offset - offset);
        offset = found.offset;
      }

      let kept = size;
      if (isLast) {
        kept = offset;
        if (lastRecord && lastRecord.offset + RECORD_HEADER_BYTES + lastRecord.header.payloadBytes === kept) {
          const payload = await reader.bytes(lastRecord.offset + RECORD_HEADER_BYTES, lastRecord.header.payloadBytes);
          if (!payloadIntact(lastRecord.header, payload)) {
            kept = lastRecord.offset;
            point = lastRecord.before;
          }
        }
        if (start === undefined && lastRecord === undefined) return await this.discardUnreadable(reader, path, size, previous);
        const handle = await open(path, 'r+');
        if (kept < size) {
          await handle.truncate(kept);
          if (this.options.fsync) await handle.sync();
        }
        // Appends continue in this segment; one with a damaged header is kept for reading and a new one started.
        if (start === undefined) await handle.close();
        else this.writer = handle;
      }
      await reader.close();
      this.segments.push({ id, start: segmentStart, size: kept });
      this.diskBytes += kept;
      return { point, danglingBytes: isLast ? 0 : size - offset };
    } catch (error) {
      await reader.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * A segment with nothing intact: torn at creation (no bigger than its
   * header), or damaged beyond reading, whose entries cannot be counted;
   * the bytes are reported so the loss is not silent.
   */
  private async discardUnreadable<T>(reader: SegmentReader, path: string, size: number, previous: T): Promise<T> {
    if (size > SEGMENT_HEADER_BYTES) this.options.onDrop({ entries: 0, events: 0, bytes: size, reason: 'corrupt' });
    await reader.close();
    await unlink(path);
    return previous;
  }

  private async readCursor(): Promise<Cursor | undefined> {
    const path = join(this.options.dir, CURSOR_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new TributaryError('CONFIG_UNREADABLE', `cannot read spool cursor ${path}: ${errorMessage(error)}`, { cause: error });
    }
    let cursor: Partial<Cursor> | undefined;
    try {
      cursor = JSON.parse(text) as Partial<Cursor>;
    } catch {
      cursor = undefined;
    }
    const valid =
      cursor?.version === 1 && [cursor.segment, cursor.offset, cursor.seq, cursor.events].every((value) => Number.isSafeInteger(value) && (value ?? -1) >= 0);
    // Written by rename only, so this is damage or a foreign file, not a crash; resending everything is the operator's call.
    if (!valid) throw new TributaryError('CONFIG_UNREADABLE', `spool cursor ${path} is damaged; move it away to resend everything spooled`);
    return cursor as Cursor;
  }

  // ---- appending -----------------------------------------------------------

  /** Writes every append queued so far: records share write calls and syncs, and roll, drop and commit in order. */
  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.pending;
    this.pending = [];
    let chunk: PendingAppend[] = [];
    let chunkBytes = 0;
    let next: StreamPoint = this.end;
    const commit = async (): Promise<void> => {
      const items = chunk;
      chunk = [];
      chunkBytes = 0;
      if (items.length === 0) return;
      if (this.failure) {
        for (const item of items) item.reject(this.failure);
        return;
      }
      try {
        await this.commit(items.map((item) => item.record));
        for (const item of items) item.resolve();
      } catch (error) {
        next = this.end;
        for (const item of items) item.reject(error);
      }
    };

    for (const item of batch) {
      if (this.failure) {
        item.reject(this.failure);
        continue;
      }
      try {
        const length = item.record.length;
        const active = this.writer ? this.segments.at(-1) : undefined;
        const used = (active?.size ?? 0) + chunkBytes;
        const roll = active === undefined || (used > SEGMENT_HEADER_BYTES && used + length > this.options.segmentBytes);
        if (roll) {
          await commit();
          await this.sealActive();
        }
        await this.makeRoom(chunkBytes + length + (roll ? SEGMENT_HEADER_BYTES : 0));
        if (roll) await this.createSegment();
        stampRecord(item.record, next);
        next = { seq: next.seq + 1, events: next.events + recordEventCount(item.record) };
        chunk.push(item);
        chunkBytes += length;
        if (chunk.length >= MAX_RECORDS_PER_WRITE || chunkBytes >= MAX_BYTES_PER_WRITE) await commit();
      } catch (error) {
        item.reject(error);
      }
    }
    await commit();
  }

  /** Writes records at the end of the active segment and makes them visible; a failed write is cut off again. */
  private async commit(records: Buffer[]): Promise<void> {
    const segment = this.segments.at(-1);
    const writer = this.writer;
    if (!segment || !writer) throw new TributaryError('INTERNAL', 'spool has no segment open for writing');
    const bytes = records.reduce((sum, record) => sum + record.length, 0);
    let written = false;
    try {
      await writeFully(writer, records, segment.size);
      written = true;
      if (this.options.fsync) await writer.datasync();
    } catch (error) {
      await this.undoWrite(segment, writer, error, written);
      throw new TributaryError('INTERNAL', `cannot write spool segment ${this.segmentPath(segment.id)}: ${errorMessage(error)}`, {
        cause: error,
        retriable: this.failure === undefined,
      });
    }
    segment.size += bytes;
    this.diskBytes += bytes;
    const events = records.reduce((sum, record) => sum + recordEventCount(record), 0);
    this.end = { segment: segment.id, offset: segment.size, seq: this.end.seq + records.length, events: this.end.events + events };
    this.notifyReadable();
  }

  /**
   * Records whose append is rejected must not come back after a restart. A
   * failed fsync leaves the page cache untrustworthy (what it holds may never
   * reach the disk), so the spool stops taking appends after one.
   */
  private async undoWrite(segment: Segment, writer: FileHandle, error: unknown, syncFailed: boolean): Promise<void> {
    try {
      await writer.truncate(segment.size);
      if (this.options.fsync) await writer.sync();
      if (!syncFailed) return;
    } catch {
      // The failure below names the original error, which is the one worth reading.
    }
    this.failure = new TributaryError('INTERNAL', `spool ${this.options.dir} stopped taking appends after a failed write: ${errorMessage(error)}`, {
      cause: error,
    });
  }

  private async sealActive(): Promise<void> {
    const writer = this.writer;
    this.writer = undefined;
    this.end = { segment: this.nextSegmentId, offset: SEGMENT_HEADER_BYTES, seq: this.end.seq, events: this.end.events };
    // Records were synced as they were committed; closing adds nothing to durability.
    await writer?.close();
  }

  private async createSegment(): Promise<void> {
    const id = this.nextSegmentId++;
    const path = this.segmentPath(id);
    const start: Point = { segment: id, offset: SEGMENT_HEADER_BYTES, seq: this.end.seq, events: this.end.events };
    const handle = await open(path, 'wx');
    try {
      await writeFully(handle, [encodeSegmentHeader(start)], 0);
      if (this.options.fsync) {
        await handle.sync();
        await this.syncDirectory();
      }
    } catch (error) {
      await handle.close();
      await rm(path, { force: true });
      throw new TributaryError('INTERNAL', `cannot create spool segment ${path}: ${errorMessage(error)}`, { cause: error, retriable: true });
    }
    this.writer = handle;
    this.segments.push({ id, start, size: SEGMENT_HEADER_BYTES });
    this.diskBytes += SEGMENT_HEADER_BYTES;
    this.end = start;
  }

  /** Drops the oldest sealed segments until `incoming` more bytes fit under the cap. */
  private async makeRoom(incoming: number): Promise<void> {
    while (this.diskBytes + incoming > this.options.maxBytes) {
      const oldest = this.segments[0];
      // The segment being written is never dropped: rolling first guarantees it fits (see `append`'s size check).
      if (oldest === undefined || (this.writer !== undefined && this.segments.length === 1)) return;
      await this.dropOldest(oldest);
    }
  }

  /**
   * Deletes the oldest segment to make room. Entries never handed out are
   * reported at once; entries handed out and not acknowledged may still be
   * delivered, so they are reported only if `rewind` (or `close`) says they
   * were not.
   */
  private async dropOldest(victim: Segment): Promise<void> {
    await this.forgetSegment(victim);
    const boundary = this.segments[0]?.start ?? this.end;
    const offsetIn = (point: Point): number =>
      point.segment === victim.id ? point.offset : point.seq <= victim.start.seq ? SEGMENT_HEADER_BYTES : victim.size;
    const from = later(this.ack, victim.start);
    if (boundary.seq > from.seq) {
      const handedOutTo = later(from, earlier(this.readPos, boundary));
      if (handedOutTo.seq > from.seq) this.inFlightDrops.push({ from, to: handedOutTo, bytes: offsetIn(handedOutTo) - offsetIn(from) });
      this.report({ ...this.count(handedOutTo, boundary), bytes: victim.size - offsetIn(handedOutTo), reason: 'size_cap' });
    }
    if (this.readPos.seq < boundary.seq || this.readPos.segment <= victim.id) this.readPos = boundary;
  }

  // ---- reading -------------------------------------------------------------

  private async readEntries(limits: { maxEntries: number; maxBytes: number }): Promise<SpooledEntry[]> {
    const entries: SpooledEntry[] = [];
    let bytes = 0;
    while (entries.length < limits.maxEntries) {
      const segment = this.segmentAtReadPos();
      if (segment === undefined || this.readPos.offset >= segment.size) break;
      const reader = await this.readerFor(segment);
      const at = this.readPos;
      const header = decodeRecordHeader(await reader.bytes(at.offset, RECORD_HEADER_BYTES));
      if (!header || !fitsAfter(header, at, at.offset, segment.size)) {
        await this.skipDamage(segment, reader);
        continue;
      }
      if (entries.length > 0 && bytes + header.payloadBytes > limits.maxBytes) break;
      if (header.seq > at.seq) this.noteHole(at, header, 0);
      const after: Point = {
        segment: segment.id,
        offset: at.offset + RECORD_HEADER_BYTES + header.payloadBytes,
        seq: header.seq + 1,
        events: header.events + header.eventCount,
      };
      const payload = await reader.bytes(at.offset + RECORD_HEADER_BYTES, header.payloadBytes);
      const decoded = payloadIntact(header, payload) ? decodePayload(payload) : undefined;
      this.readPos = after;
      if (decoded === undefined) {
        this.noteHole(header, after, RECORD_HEADER_BYTES + header.payloadBytes);
        continue;
      }
      entries.push({ ...decoded, eventCount: header.eventCount, position: after });
      bytes += header.payloadBytes;
    }
    this.handedOut = Math.max(this.handedOut, this.readPos.seq);
    return entries;
  }

  /** Moves the read position over segment boundaries and deleted segments; the segment it is in, if any. */
  private segmentAtReadPos(): Segment | undefined {
    for (;;) {
      const index = this.segments.findIndex((segment) => segment.id >= this.readPos.segment);
      const segment = this.segments[index];
      if (segment === undefined) return undefined;
      if (segment.id > this.readPos.segment) this.readPos = segment.start;
      const next = this.segments[index + 1];
      if (this.readPos.offset < segment.size || next === undefined) return segment;
      this.readPos = next.start;
    }
  }

  private async readerFor(segment: Segment): Promise<SegmentReader> {
    if (this.reader?.id === segment.id) return this.reader;
    await this.reader?.close();
    this.reader = undefined;
    this.reader = await SegmentReader.open(this.segmentPath(segment.id), segment.id);
    return this.reader;
  }

  /** A record header went bad after recovery checked it: skip to the next intact record, or past the segment. */
  private async skipDamage(segment: Segment, reader: SegmentReader): Promise<void> {
    const at = this.readPos;
    const found = await findRecord(reader, at.offset + 1, segment.size, at);
    const index = this.segments.indexOf(segment);
    const to: Point = found
      ? { segment: segment.id, offset: found.offset, seq: found.header.seq, events: found.header.events }
      : (this.segments[index + 1]?.start ?? this.end);
    this.noteHole(at, to, (found?.offset ?? segment.size) - at.offset);
    this.readPos = to;
  }

  // ---- acknowledging -------------------------------------------------------

  /** An acknowledgement past an in-flight entry the size cap deleted means it was delivered after all. */
  private settleInFlightDrops(): void {
    this.inFlightDrops = this.inFlightDrops.filter((drop) => drop.to.seq > this.ack.seq);
    const first = this.inFlightDrops[0];
    if (first && this.ack.seq > first.from.seq) {
      if (this.ack.segment === first.from.segment) first.bytes -= this.ack.offset - first.from.offset;
      first.from = this.ack;
    }
  }

  private reportInFlightDrops(): Point | undefined {
    for (const drop of this.inFlightDrops) this.report({ ...this.count(drop.from, drop.to), bytes: drop.bytes, reason: 'size_cap' });
    const last = this.inFlightDrops.at(-1)?.to;
    this.inFlightDrops = [];
    return last;
  }

  private rewindNow(): void {
    const droppedTo = this.reportInFlightDrops();
    // Not persisted: after a restart, a cursor in a deleted segment resumes at the oldest segment left, which is the same place.
    if (droppedTo && droppedTo.seq > this.ack.seq) this.ack = droppedTo;
    this.holes = this.holes.filter((hole) => hole.to.seq > this.ack.seq);
    this.readPos = this.ack;
    this.notifyReadable();
  }

  private async deleteAcknowledgedSegments(): Promise<void> {
    for (let oldest = this.segments[0]; oldest !== undefined; oldest = this.segments[0]) {
      const beingWritten = this.writer !== undefined && this.segments.length === 1;
      const delivered = oldest.id < this.ack.segment || (oldest.id === this.ack.segment && this.ack.offset >= oldest.size);
      if (beingWritten || !delivered) return;
      await this.forgetSegment(oldest);
    }
  }

  /** Deletes the oldest segment's file, then forgets it. */
  private async forgetSegment(segment: Segment): Promise<void> {
    if (this.reader?.id === segment.id) {
      const reader = this.reader;
      this.reader = undefined;
      await reader.close();
    }
    await unlink(this.segmentPath(segment.id)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
    this.segments.shift();
    this.diskBytes -= segment.size;
  }

  /** Replaced atomically: a crash leaves the old cursor or the new one, never a torn one. */
  private async writeCursor(): Promise<void> {
    const path = join(this.options.dir, CURSOR_FILE);
    const { segment, offset, seq, events } = this.ack;
    const cursor: Cursor = { version: 1, segment, offset, seq, events };
    try {
      // A fresh exclusively-created temporary, never a fixed name someone could plant a symlink at.
      await replaceFileAtomically(path, `${JSON.stringify(cursor)}\n`, { fsync: this.options.fsync });
    } catch (error) {
      throw new TributaryError('INTERNAL', `cannot write spool cursor ${path}: ${errorMessage(error)}`, { cause: error, retriable: true });
    }
  }

  private async syncDirectory(): Promise<void> {
    const directory = await open(this.options.dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  private async releaseFiles(): Promise<void> {
    const writer = this.writer;
    const reader = this.reader;
    this.writer = undefined;
    this.reader = undefined;
    await Promise.all([writer?.close(), reader?.close()]);
  }
}

/** Could this header be the record at `offset`, continuing the stream after `point`? */
function fitsAfter(header: RecordHeader, point: StreamPoint, offset: number, segmentSize: number): boolean {
  return header.seq >= point.seq && header.events >= point.events && offset + RECORD_HEADER_BYTES + header.payloadBytes <= segmentSize;
}

/**
 * The first intact record at or after `from`, continuing the stream after
 * `after`: header and payload checksums must both hold, so damaged bytes
 * that happen to look like a header are not taken for one.
 */
async function findRecord(
  reader: SegmentReader,
  from: number,
  limit: number,
  after: StreamPoint,
): Promise<{ offset: number; header: RecordHeader } | undefined> {
  for (let base = from; base + RECORD_HEADER_BYTES <= limit;) {
    const window = await reader.bytes(base, Math.min(READ_WINDOW_BYTES, limit - base));
    const lastStart = window.length - RECORD_HEADER_BYTES;
    for (let index = 0; index <= lastStart; index++) {
      const offset = base + index;
      if (!plausibleRecordAt(window, index, limit - offset)) continue;
      const header = decodeRecordHeader(window, index);
      if (header === undefined || !fitsAfter(header, after, offset, limit)) continue;
      if (payloadIntact(header, await reader.bytes(offset + RECORD_HEADER_BYTES, header.payloadBytes))) return { offset, header };
    }
    if (lastStart < 0) return undefined;
    base += lastStart + 1;
  }
  return undefined;
}

async function writeFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let remaining = buffers;
  let at = position;
  while (remaining.length > 0) {
    const { bytesWritten } = await handle.writev(remaining, at);
    if (bytesWritten === 0) throw new Error('write made no progress');
    at += bytesWritten;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const buffer of remaining) {
      if (skip >= buffer.length) {
        skip -= buffer.length;
      } else {
        rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
        skip = 0;
      }
    }
    remaining = rest;
  }
}

/** Positioned reads through a window, so scanning headers costs one read per window rather than one per record. */
class SegmentReader {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  private constructor(
    readonly id: number,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string, id: number): Promise<SegmentReader> {
    return new SegmentReader(id, await open(path, 'r'));
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  /** Up to `length` bytes at `offset`, fewer only at the end of the file. Views stay valid: a refill allocates a new window. */
  async bytes(offset: number, length: number): Promise<Buffer> {
    const start = offset - this.windowStart;
    if (start >= 0 && start + length <= this.window.length) return this.window.subarray(start, start + length);
    const buffer = Buffer.allocUnsafe(Math.max(length, READ_WINDOW_BYTES));
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, offset);
    this.window = buffer.subarray(0, bytesRead);
    this.windowStart = offset;
    return this.window.subarray(0, Math.min(length, bytesRead));
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
