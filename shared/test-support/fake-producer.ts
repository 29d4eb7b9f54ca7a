import { TributaryError } from '../errors.js';
import type { KafkaCompression, MessageProducer, OutgoingMessage } from '../kafka/producer.js';

/** One `send` as the fake saw it. */
export interface ProducerSend {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
  readonly compression: KafkaCompression | undefined;
}

/** A send held in flight (`manual` mode) until the test settles it. */
export interface HeldSend extends ProducerSend {
  /** Acknowledges the send (no error), or rejects it with `error`. Only the first call counts. */
  readonly settle: (error?: Error) => void;
}

/** What a broker that has no leader answers: retriable, so callers retry. */
export const unavailable = (topic: string): TributaryError =>
  new TributaryError('KAFKA_UNAVAILABLE', `producing to ${topic} failed: no leader`, { retriable: true });

/** What AckedProducer reports for one message over the broker's limit. */
export const tooLarge = (): TributaryError => new TributaryError('FRAME_TOO_LARGE', 'MESSAGE_TOO_LARGE');

/** A refusal for good (an authorization failure, an invalid record). */
export const rejected = (message = 'refused'): TributaryError => new TributaryError('KAFKA_REJECTED', message, { retriable: false });

/**
 * The one `MessageProducer` of the unit tests, standing in for AckedProducer: a send resolves as the broker's
 * acks=all would, and what was acknowledged is kept in order. Faults, checked in this order on every send:
 * `beforeAnswer` (hold a send until a test lets it go), `down` (every send and connect fails, as an unreachable
 * broker), `unavailableFor` (the next n sends fail retriably), `failingTopics` (sends to these topics fail
 * retriably), `refuse` (a broker policy per send: too large, refused for good), then `manual` (the test settles
 * each send itself).
 */
export class FakeProducer implements MessageProducer {
  /** Every send, acknowledged or not, in the order called. */
  readonly requests: ProducerSend[] = [];
  /** The sends the broker acknowledged, in the order acknowledged. */
  readonly sent: ProducerSend[] = [];
  /** `manual` sends, in the order called; settled ones stay (indexes are stable). */
  readonly held: HeldSend[] = [];
  /** While set, connect and every send fail as a broker nobody can reach. */
  down = false;
  /** The next this many sends reject with a retriable KAFKA_UNAVAILABLE. */
  unavailableFor = 0;
  /** Sends to these topics reject with a retriable KAFKA_UNAVAILABLE. */
  readonly failingTopics = new Set<string>();
  /** The broker's answer to a send: an error to reject with, or undefined to go on. */
  refuse: ((send: ProducerSend) => Error | undefined) | undefined;
  /** Awaited before a send is answered (recorded already): a test holds a send in flight with it. */
  beforeAnswer: ((topic: string) => Promise<void> | void) | undefined;
  /** Sends wait in `held` for the test to settle them instead of being answered at once. */
  manual = false;
  connects = 0;
  disconnects = 0;

  constructor(options: { manual?: boolean; refuse?: (send: ProducerSend) => Error | undefined } = {}) {
    this.manual = options.manual ?? false;
    this.refuse = options.refuse;
  }

  connect(): Promise<void> {
    this.connects++;
    return this.down ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.disconnects++;
    return Promise.resolve();
  }

  async send(topic: string, messages: readonly OutgoingMessage[], compression?: KafkaCompression): Promise<void> {
    const send: ProducerSend = { topic, messages, compression };
    this.requests.push(send);
    await this.beforeAnswer?.(topic);
    if (this.down || this.failingTopics.has(topic)) throw unavailable(topic);
    if (this.unavailableFor > 0) {
      this.unavailableFor--;
      throw unavailable(topic);
    }
    const refusal = this.refuse?.(send);
    if (refusal) throw refusal;
    if (this.manual) {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        this.held.push({
          ...send,
          settle: (error) => {
            if (settled) return;
            settled = true;
            if (error) reject(error);
            else {
              this.sent.push(send);
              resolve();
            }
          },
        });
      });
      return;
    }
    this.sent.push(send);
  }

  /** Every acknowledged message, in order, across sends and topics. */
  get acknowledged(): OutgoingMessage[] {
    return this.sent.flatMap((send) => send.messages);
  }

  /** The acknowledged sends of one topic. */
  sentTo(topic: string): ProducerSend[] {
    return this.sent.filter((send) => send.topic === topic);
  }
}
