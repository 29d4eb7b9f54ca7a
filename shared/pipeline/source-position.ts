import type { RecordOrigin } from './record-sink.js';

/**
 * A record's position in its source partition: the raw frame's Kafka offset
 * and the event's index among that frame's lines. One frame may reach a sink
 * over several writes (a large frame is decoded in chunks; a rejected batch
 * is written again in halves), so consumers that recognise replays by
 * position (HDFS file names, alert partials) compare whole positions, never
 * offsets alone: an offset already seen may still have events to come.
 */
export interface SourcePosition {
  readonly offset: bigint;
  readonly event: number;
}

/** The event index of a position recorded before event indices existed: every event of the frame. */
export const WHOLE_FRAME = Number.MAX_SAFE_INTEGER;

export function positionOf(origin: RecordOrigin): SourcePosition {
  return { offset: BigInt(origin.offset), event: origin.event };
}

/** Negative when `a` comes before `b` in the partition, zero when equal. */
export function comparePositions(a: SourcePosition, b: SourcePosition): number {
  if (a.offset !== b.offset) return a.offset < b.offset ? -1 : 1;
  return a.event - b.event;
}

/** `<offset>-<event>`; a whole-frame position is its offset alone, as it was written before event indices. */
export function formatPosition(at: SourcePosition, offsetDigits = 0): string {
  const offset = at.offset.toString().padStart(offsetDigits, '0');
  return at.event === WHOLE_FRAME ? offset : `${offset}-${at.event}`;
}

const POSITION = /^(\d{1,20})(?:-(\d{1,15}))?$/;

/** Parses {@link formatPosition}'s output; an offset alone is a whole frame. Undefined for anything else. */
export function parsePosition(text: string): SourcePosition | undefined {
  const match = POSITION.exec(text);
  if (!match) return undefined;
  return { offset: BigInt(match[1] as string), event: match[2] === undefined ? WHOLE_FRAME : Number(match[2]) };
}
