import type { BatchConsumer, EventBatch } from './types.js';

/** A BatchConsumer for unit tests of sources: keeps every batch and reads their events back. */
export class CollectingConsumer<Event = unknown> implements BatchConsumer {
  readonly batches: EventBatch[] = [];

  consume(batch: EventBatch): Promise<void> {
    this.batches.push(batch);
    return Promise.resolve();
  }

  get events(): Event[] {
    return this.batches.flatMap((batch) =>
      batch.ndjson
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Event),
    );
  }
}
