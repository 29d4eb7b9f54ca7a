import { createHash } from 'node:crypto';
import type { OutgoingRecord } from '../../shared/pipeline/record-sink.js';
import type { RuleSet } from './rules/alert-rule.js';
import { addSample, sliceStart, type Slice } from './slices.js';

/** One raw frame's contribution to one alert: slices by start time (ms, as a string key). */
export interface PartialFrame {
  /** The raw frame's offset in its partition. */
  offset: string;
  /**
   * The event index (in the raw frame) of the last record this part holds: with the offset, the position a
   * replay is recognised by. A large frame reaches stage one in several steps, each a chunk cut at the same
   * events on every replay, so a part of a frame is skipped only when that very part was applied. Absent in
   * partials from collectors before event indices: the whole frame.
   */
  event?: number;
  slices: Record<string, Slice>;
}

/**
 * What the collector that consumed some raw frames contributes to one rule
 * and group key; published to the partials topic keyed by `stateKey`, so every
 * contribution to one alert meets in one partition, owned by one collector.
 */
export interface AlertPartial {
  rule: string;
  key: string;
  labels: Record<string, string>;
  /** `topic/partition` of the raw frames. */
  source: string;
  /** In offset order. */
  frames: PartialFrame[];
}

/** The Kafka key of an alert's partials and of its checkpointed state: rule id and a digest of the group key. */
export function stateKey(rule: string, key: string): string {
  return `${rule}|${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;
}

export interface PartialsResult {
  partials: AlertPartial[];
  /** Records selected by at least one rule. */
  matched: number;
  /** Records whose timestamp could not be read (not evaluable). */
  untimed: number;
}

/**
 * Stage one, where records land: reduces a step's records to one partial per
 * rule and group key, frames kept apart so a replayed step can be recognised
 * frame by frame downstream.
 */
export function buildPartials(rules: RuleSet, records: readonly OutgoingRecord[]): PartialsResult {
  const byKey = new Map<string, AlertPartial>();
  let matched = 0;
  let untimed = 0;
  for (const { record, origin } of records) {
    const candidates = rules.candidates(record);
    if (candidates.length === 0) continue;
    const timeMs = Date.parse(record.timestamp);
    if (Number.isNaN(timeMs)) {
      untimed++;
      continue;
    }
    let selected = false;
    for (const rule of candidates) {
      const sample = rule.sample(record, timeMs);
      if (sample === undefined) continue;
      selected = true;
      const source = `${origin.topic}/${origin.partition}`;
      const id = `${rule.id}\u0000${sample.key}\u0000${source}`;
      let partial = byKey.get(id);
      if (partial === undefined) byKey.set(id, (partial = { rule: rule.id, key: sample.key, labels: { ...sample.labels }, source, frames: [] }));
      let frame = partial.frames[partial.frames.length - 1];
      if (frame?.offset !== origin.offset) partial.frames.push((frame = { offset: origin.offset, event: origin.event, slices: {} }));
      // Records of a frame come in event order within a step.
      frame.event = origin.event;
      const start = String(sliceStart(rule, timeMs));
      const slice = (frame.slices[start] ??= { count: 0 });
      addSample(slice, timeMs, sample.value, sample.series);
    }
    if (selected) matched++;
  }
  return { partials: [...byKey.values()], matched, untimed };
}
