import { crc32 } from 'node:zlib';
import { TributaryError } from '../../shared/errors.js';

/**
 * The spool's on-disk format, pure and byte-exact (see README.md beside this
 * file). All integers are big-endian; 64-bit ones are written as two 32-bit
 * halves so they stay plain numbers (safe up to 2^53).
 *
 * Segment file: a 28-byte header, then records back to back.
 *   magic "TRSP" · u8 version · 3 zero bytes · u64 start seq · u64 start events · u32 crc32(previous 24 bytes)
 *
 * Record: a 32-byte header, then the payload.
 *   u32 payload bytes · u32 event count · u64 seq · u64 events before · u32 crc32(payload) · u32 crc32(previous 28 bytes)
 *
 * Payload: u32 key bytes · key (UTF-8) · u32 header count · per header (u32 name bytes · name · u32 value bytes · value) · value (the rest).
 *
 * Every record carries its place in the stream (seq: entries appended before
 * it, events before: events appended before it), and every segment where the
 * stream stood when it was created. That is what makes drop accounting exact
 * without reading what was lost: the entries and events missing between two
 * intact points are a subtraction. The header has its own checksum so a
 * damaged payload costs exactly one record, whose length is still trusted.
 */
export const SEGMENT_HEADER_BYTES = 28;
export const RECORD_HEADER_BYTES = 32;
export const FORMAT_VERSION = 1;

const SEGMENT_MAGIC = 0x54525350; // "TRSP"
const TWO_TO_32 = 2 ** 32;
const MAX_U32 = TWO_TO_32 - 1;

export interface SpoolEntry {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  /** Events inside `value`; the unit of drop accounting. */
  eventCount: number;
}

/** A place in the stream of appended entries: `seq` entries and `events` events lie before it. */
export interface StreamPoint {
  readonly seq: number;
  readonly events: number;
}

export interface RecordHeader extends StreamPoint {
  readonly payloadBytes: number;
  readonly eventCount: number;
  readonly payloadCrc: number;
}

function writeU64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUInt32BE(Math.floor(value / TWO_TO_32), offset);
  buffer.writeUInt32BE(value % TWO_TO_32, offset + 4);
}

function readU64(buffer: Buffer, offset: number): number {
  return buffer.readUInt32BE(offset) * TWO_TO_32 + buffer.readUInt32BE(offset + 4);
}

export function encodeSegmentHeader(start: StreamPoint): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.writeUInt32BE(SEGMENT_MAGIC, 0);
  header.writeUInt8(FORMAT_VERSION, 4);
  writeU64(header, start.seq, 8);
  writeU64(header, start.events, 16);
  header.writeUInt32BE(crc32(header.subarray(0, 24)), 24);
  return header;
}

/** The stream point a segment starts at, or undefined when the header is damaged, torn or not ours. */
export function decodeSegmentHeader(bytes: Buffer): StreamPoint | undefined {
  if (bytes.length < SEGMENT_HEADER_BYTES) return undefined;
  if (bytes.readUInt32BE(0) !== SEGMENT_MAGIC || bytes.readUInt32BE(24) !== crc32(bytes.subarray(0, 24))) return undefined;
  if (bytes.readUInt8(4) !== FORMAT_VERSION) {
    throw new TributaryError('CONFIG_UNREADABLE', `spool segment has format version ${bytes.readUInt8(4)}; this agent reads version ${FORMAT_VERSION}`);
  }
  const point = { seq: readU64(bytes, 8), events: readU64(bytes, 16) };
  return Number.isSafeInteger(point.seq) && Number.isSafeInteger(point.events) ? point : undefined;
}

/**
 * Encodes everything but the stream point, which is known only when the
 * record's turn to be written comes (see `stampRecord`): header and payload
 * in one buffer, so one write puts a record on disk.
 */
export function encodeRecord(entry: SpoolEntry): Buffer {
  if (!Number.isInteger(entry.eventCount) || entry.eventCount < 0 || entry.eventCount > MAX_U32) {
    throw new TributaryError('INTERNAL', `spool entry has an invalid event count ${entry.eventCount}`);
  }
  const key = Buffer.from(entry.key, 'utf8');
  const headers = Object.entries(entry.headers).map(([name, value]) => [Buffer.from(name, 'utf8'), Buffer.from(value, 'utf8')] as const);
  let payloadBytes = 4 + key.length + 4 + entry.value.length;
  for (const [name, value] of headers) payloadBytes += 8 + name.length + value.length;
  if (payloadBytes > MAX_U32) throw new TributaryError('FRAME_TOO_LARGE', `spool entry of ${payloadBytes} bytes exceeds the record limit of 4 GiB`);

  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payloadBytes);
  let offset = RECORD_HEADER_BYTES;
  const put = (bytes: Buffer): void => {
    record.writeUInt32BE(bytes.length, offset);
    bytes.copy(record, offset + 4);
    offset += 4 + bytes.length;
  };
  put(key);
  record.writeUInt32BE(headers.length, offset);
  offset += 4;
  for (const [name, value] of headers) {
    put(name);
    put(value);
  }
  entry.value.copy(record, offset);

  record.writeUInt32BE(payloadBytes, 0);
  record.writeUInt32BE(entry.eventCount, 4);
  record.fill(0, 8, 24);
  record.writeUInt32BE(crc32(record.subarray(RECORD_HEADER_BYTES)), 24);
  return record;
}

/** Writes the record's place in the stream and seals its header with the header checksum. */
export function stampRecord(record: Buffer, at: StreamPoint): void {
  writeU64(record, at.seq, 8);
  writeU64(record, at.events, 16);
  record.writeUInt32BE(crc32(record.subarray(0, 28)), 28);
}

export function recordEventCount(record: Buffer): number {
  return record.readUInt32BE(4);
}

/** The header at `offset`, or undefined when it fails its checksum (torn, damaged, or not a header at all). */
export function decodeRecordHeader(bytes: Buffer, offset = 0): RecordHeader | undefined {
  if (bytes.length - offset < RECORD_HEADER_BYTES) return undefined;
  if (bytes.readUInt32BE(offset + 28) !== crc32(bytes.subarray(offset, offset + 28))) return undefined;
  const header = {
    payloadBytes: bytes.readUInt32BE(offset),
    eventCount: bytes.readUInt32BE(offset + 4),
    seq: readU64(bytes, offset + 8),
    events: readU64(bytes, offset + 16),
    payloadCrc: bytes.readUInt32BE(offset + 24),
  };
  return Number.isSafeInteger(header.seq) && Number.isSafeInteger(header.events) ? header : undefined;
}

/** A cheap pre-check before the checksum, for scanning damaged bytes: could a header here describe a record that fits? */
export function plausibleRecordAt(bytes: Buffer, offset: number, bytesLeft: number): boolean {
  return bytes.length - offset >= RECORD_HEADER_BYTES && bytes.readUInt32BE(offset) <= bytesLeft - RECORD_HEADER_BYTES;
}

export function payloadIntact(header: RecordHeader, payload: Buffer): boolean {
  return payload.length === header.payloadBytes && crc32(payload) === header.payloadCrc;
}

/** Decodes a payload that passed its checksum; `value` is a copy, so the read buffer can be reused. Undefined when malformed. */
export function decodePayload(payload: Buffer): Omit<SpoolEntry, 'eventCount'> | undefined {
  let offset = 0;
  const take = (): Buffer | undefined => {
    if (payload.length - offset < 4) return undefined;
    const length = payload.readUInt32BE(offset);
    if (payload.length - offset - 4 < length) return undefined;
    const bytes = payload.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return bytes;
  };
  const key = take();
  if (key === undefined || payload.length - offset < 4) return undefined;
  const headerCount = payload.readUInt32BE(offset);
  offset += 4;
  const headers: [string, string][] = [];
  for (let index = 0; index < headerCount; index++) {
    const name = take();
    const value = take();
    if (name === undefined || value === undefined) return undefined;
    headers.push([name.toString('utf8'), value.toString('utf8')]);
  }
  // fromEntries defines own properties, so a header named "__proto__" stays a header.
  return { key: key.toString('utf8'), headers: Object.fromEntries(headers), value: Buffer.from(payload.subarray(offset)) };
}
