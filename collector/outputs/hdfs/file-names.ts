/**
 * File names that record what a file holds, after Kafka Connect's HDFS
 * connector: `<topic>+<partition>+<startOffset>+<endOffset>.<ext>` for
 * finished files, and `_tmp/<topic>+<partition>+<startOffset>+<endOffset>+<bytes>.<ext>`
 * for the file still being appended to, where `bytes` is how much of it is
 * committed (every byte after that is from an append that never completed).
 * Offsets are the raw frames' Kafka offsets, zero-padded to 20 digits so names
 * sort in offset order. Recovery reads the high-water offset from these names.
 */

/** The sub-directory of in-progress files: Hadoop, Hive and Spark skip names starting with '_'. */
export const TEMP_DIR = '_tmp';

export interface FileIdentity {
  readonly topic: string;
  readonly partition: number;
}

export interface FinalName extends FileIdentity {
  readonly start: bigint;
  readonly end: bigint;
}

export interface TempName extends FinalName {
  /** Bytes of the file that are complete members (what write() acknowledged, or may have). */
  readonly bytes: number;
}

const OFFSET_DIGITS = 20;

function pad(offset: bigint): string {
  return offset.toString().padStart(OFFSET_DIGITS, '0');
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
  return `${topicPart(file.topic)}+${file.partition}+${pad(file.start)}+${pad(file.end)}${extension}`;
}

export function tempName(file: TempName, extension: string): string {
  return `${topicPart(file.topic)}+${file.partition}+${pad(file.start)}+${pad(file.end)}+${file.bytes}${extension}`;
}

const FINAL = /^([A-Za-z0-9._%-]+)\+(\d+)\+(\d{1,20})\+(\d{1,20})(\..+)$/;
const TEMP = /^([A-Za-z0-9._%-]+)\+(\d+)\+(\d{1,20})\+(\d{1,20})\+(\d+)(\..+)$/;

/** A finished file's name parsed, when it is one of ours with this extension. */
export function parseFinalName(name: string, extension: string): FinalName | undefined {
  const match = FINAL.exec(name);
  if (!match || match[5] !== extension) return undefined;
  return { topic: parseTopic(match[1] as string), partition: Number(match[2]), start: BigInt(match[3] as string), end: BigInt(match[4] as string) };
}

/** An in-progress file's name parsed, when it is one of ours with this extension. */
export function parseTempName(name: string, extension: string): TempName | undefined {
  const match = TEMP.exec(name);
  if (!match || match[6] !== extension) return undefined;
  return {
    topic: parseTopic(match[1] as string),
    partition: Number(match[2]),
    start: BigInt(match[3] as string),
    end: BigInt(match[4] as string),
    bytes: Number(match[5]),
  };
}
