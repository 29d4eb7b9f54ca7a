import { WHOLE_FRAME, formatPosition, type SourcePosition } from '../../../shared/pipeline/source-position.js';

/**
 * File names that record what a file holds, after Kafka Connect's HDFS
 * connector: `<topic>+<partition>+<start>+<end>.<ext>` for finished files,
 * and `_tmp/<topic>+<partition>+<start>+<end>+<bytes>.<ext>` for the file
 * still being appended to, where `bytes` is how much of it is committed
 * (every byte after that is from an append that never completed).
 *
 * `start` and `end` are source positions: `<offset>-<event>`, the raw frame's
 * Kafka offset zero-padded to 20 digits (names sort in offset order) and the
 * event's index within that frame. The event index is needed because one
 * frame may be delivered over several writes (a large frame is decoded over
 * several steps; a rejected batch is written again in halves), so a file can
 * end in the middle of a frame. Recovery reads the high-water position from
 * these names. Names written before event indices existed (`<offset>` alone)
 * still parse: they start at the frame's first event and end after its last.
 */

/** The sub-directory of in-progress files: Hadoop, Hive and Spark skip names starting with '_'. */
export const TEMP_DIR = '_tmp';

export interface FileIdentity {
  readonly topic: string;
  readonly partition: number;
}

export interface FinalName extends FileIdentity {
  readonly start: SourcePosition;
  readonly end: SourcePosition;
}

export interface TempName extends FinalName {
  /** Bytes of the file that are complete members (what write() acknowledged, or may have). */
  readonly bytes: number;
}

const OFFSET_DIGITS = 20;

function position(at: SourcePosition): string {
  return formatPosition(at, OFFSET_DIGITS);
}

/**
 * A topic as a file-name part: Kafka topic names are [A-Za-z0-9._-], so '+'
 * never occurs in them; a leading '.' or '_' (which would hide the file from
 * readers) is escaped as %2E / %5F.
 */
function topicPart(topic: string): string {
  return topic.replace(/^[._]+/, (run) =>
    run
      .split('')
      .map((char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
      .join(''),
  );
}

function parseTopic(part: string): string {
  return part.replace(/%(2E|5F)/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function finalName(file: FinalName, extension: string): string {
  return `${topicPart(file.topic)}+${file.partition}+${position(file.start)}+${position(file.end)}${extension}`;
}

export function tempName(file: TempName, extension: string): string {
  return `${topicPart(file.topic)}+${file.partition}+${position(file.start)}+${position(file.end)}+${file.bytes}${extension}`;
}

const POSITION = String.raw`(\d{1,20})(?:-(\d{1,15}))?`;
const FINAL = new RegExp(String.raw`^([A-Za-z0-9._%-]+)\+(\d+)\+${POSITION}\+${POSITION}(\..+)$`);
const TEMP = new RegExp(String.raw`^([A-Za-z0-9._%-]+)\+(\d+)\+${POSITION}\+${POSITION}\+(\d+)(\..+)$`);

/** A name's position; an old name's start is its frame's first event, its end the frame's last. */
function parsePosition(offset: string, event: string | undefined, legacyEvent: number): SourcePosition {
  return { offset: BigInt(offset), event: event === undefined ? legacyEvent : Number(event) };
}

/** A finished file's name parsed, when it is one of ours with this extension. */
export function parseFinalName(name: string, extension: string): FinalName | undefined {
  const match = FINAL.exec(name);
  if (!match || match[7] !== extension) return undefined;
  return {
    topic: parseTopic(match[1] as string),
    partition: Number(match[2]),
    start: parsePosition(match[3] as string, match[4], 0),
    end: parsePosition(match[5] as string, match[6], WHOLE_FRAME),
  };
}

/** An in-progress file's name parsed, when it is one of ours with this extension. */
export function parseTempName(name: string, extension: string): TempName | undefined {
  const match = TEMP.exec(name);
  if (!match || match[8] !== extension) return undefined;
  return {
    topic: parseTopic(match[1] as string),
    partition: Number(match[2]),
    start: parsePosition(match[3] as string, match[4], 0),
    end: parsePosition(match[5] as string, match[6], WHOLE_FRAME),
    bytes: Number(match[7]),
  };
}
