import type { BatchConsumer } from '../shared/pipeline/types.js';
import { ndjsonLines, type RecordTaps } from '../shared/telemetry/record-tap.js';

/** The tap point of a source's events, as `tributary tap --point` names it. */
export function sourceTapPoint(sourceName: string): string {
  return `source.${sourceName}`;
}

/**
 * A source's consumer that shows its events to an open tap before passing the batch on unchanged: the tap sees
 * exactly what the framer will frame (after the source's own multiline, parsing and labels).
 */
export function tappedConsumer(consumer: BatchConsumer, taps: RecordTaps, sourceName: string): BatchConsumer {
  const point = sourceTapPoint(sourceName);
  return {
    consume(batch) {
      if (taps.active(point)) taps.offer(point, ndjsonLines(batch.ndjson));
      return consumer.consume(batch);
    },
  };
}
