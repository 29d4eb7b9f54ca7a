import type { ConsumedMessage } from '../../../shared/kafka/consumer.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import type { ComponentMetrics, DropReason } from '../../../shared/telemetry/metrics.js';

export interface DeadLetter {
  reason: string;
  errorCode: string;
  /** Where the input came from, so an operator can find and replay it. */
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  key: Buffer | string | null;
  value: Buffer | string;
  /** The original message's headers, kept so a fixed consumer can re-decode the frame. */
  originalHeaders?: ConsumedMessage['headers'];
  /** How many events this letter stands for (a whole frame may hold thousands). */
  eventCount: number;
  dropReason: DropReason;
}

export const DEAD_LETTER_HEADER = {
  reason: 'tributary.dlq.reason',
  errorCode: 'tributary.dlq.error_code',
  sourceTopic: 'tributary.dlq.source.topic',
  sourcePartition: 'tributary.dlq.source.partition',
  sourceOffset: 'tributary.dlq.source.offset',
} as const;

/**
 * `tributary.dlq`: what could not be decoded or was rejected for good goes
 * here with the reason and its origin in headers, never silently away. Input
 * offsets are committed only after the dead letters are acknowledged too.
 */
/** What the pipeline needs of the dead-letter topic; DeadLetterOutput is the real one, unit tests pass fakes. */
export interface DeadLetterWriter {
  write(letters: readonly DeadLetter[]): Promise<void>;
}

export class DeadLetterOutput implements DeadLetterWriter {
  constructor(
    readonly topic: string,
    private readonly producer: MessageProducer,
    private readonly metrics: ComponentMetrics,
  ) {}

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send(
      this.topic,
      letters.map((letter) => {
        const headers: Record<string, string | Buffer> = {};
        for (const [name, value] of Object.entries(letter.originalHeaders ?? {})) if (value !== undefined) headers[name] = value;
        headers[DEAD_LETTER_HEADER.reason] = letter.reason;
        headers[DEAD_LETTER_HEADER.errorCode] = letter.errorCode;
        headers[DEAD_LETTER_HEADER.sourceTopic] = letter.sourceTopic;
        headers[DEAD_LETTER_HEADER.sourcePartition] = String(letter.sourcePartition);
        headers[DEAD_LETTER_HEADER.sourceOffset] = letter.sourceOffset;
        return { key: letter.key, value: letter.value, headers };
      }),
      // Dead letters keep their original bytes; batch compression still saves the broker's disk.
      'zstd',
    );
    for (const letter of letters) this.metrics.drop(letter.dropReason, letter.eventCount);
    this.metrics.eventsOut.inc(letters.length);
  }
}
