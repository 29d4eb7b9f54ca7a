import { TributaryError } from '../../../shared/errors.js';
import type { MessageProducer, OutgoingMessage } from '../../../shared/kafka/producer.js';

/**
 * A producer for unit tests: a send resolves as the broker's acks=all would,
 * and what was acknowledged is kept per topic. Faults to inject: the next
 * sends fail as a broker away does (retriable), and a send held in flight.
 */
export class FakeProducer implements MessageProducer {
  readonly sent: Array<{ topic: string; messages: readonly OutgoingMessage[] }> = [];
  /** The next this many sends reject with a retriable KAFKA_UNAVAILABLE. */
  unavailableFor = 0;
  /** Awaited before a send is answered: a test holds a send in flight with it. */
  beforeAnswer: ((topic: string) => Promise<void> | void) | undefined;

  connect(): Promise<void> {
    return Promise.resolve();
  }

  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    await this.beforeAnswer?.(topic);
    if (this.unavailableFor > 0) {
      this.unavailableFor--;
      throw new TributaryError('KAFKA_UNAVAILABLE', `producing to ${topic} failed: no leader`, { retriable: true });
    }
    this.sent.push({ topic, messages });
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }
}
