// kafkajs is CommonJS without ESM named exports; Node's ESM loader only sees its default export.
import kafkajs, { type CompressionTypes, type Producer } from 'kafkajs';
import { TributaryError, errorMessage } from '../errors.js';
import { KafkaAccess, isRetriableKafkaError, isTooLargeKafkaError, withSecurityErrors } from './errors.js';

export type KafkaCompression = 'zstd' | 'gzip' | 'none';

export interface OutgoingMessage {
  key?: string | Buffer | null;
  /** null is a tombstone: it deletes the key from a compacted topic. */
  value: string | Buffer | null;
  /** A partition chosen by the caller (co-partitioned topics); the key's hash decides otherwise. */
  partition?: number;
  headers?: Record<string, string | Buffer>;
}

const { CompressionTypes: Compression } = kafkajs;

const COMPRESSION: Record<KafkaCompression, CompressionTypes> = {
  zstd: Compression.ZSTD,
  gzip: Compression.GZIP,
  none: Compression.None,
};

/** What outputs need from a producer; `KafkaClient.messageProducer()` gives the real one, unit tests pass fakes. */
export interface MessageProducer {
  connect(): Promise<void>;
  /**
   * Resolves when the broker acknowledged every message (acks=all); rejects with a classified TributaryError:
   * retriable, FRAME_TOO_LARGE (one message over the broker's limit; larger requests are split), or permanent.
   * A denial by the broker's authorizer is KAFKA_ACCESS_DENIED, retriable: granting Write makes a retry succeed.
   */
  send(topic: string, messages: readonly OutgoingMessage[], compression?: KafkaCompression): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * A connected producer that always waits for acks=all and reports failures as
 * TributaryErrors classified retriable or permanent. Shared by the collector's
 * outputs so none of them touches kafkajs. Built by `KafkaClient.messageProducer()`;
 * exported only so its unit test can hand it a fake kafkajs producer.
 */
export class AckedProducer implements MessageProducer {
  private connected = false;

  constructor(
    private readonly producer: Producer,
    /** Names the ACL to grant when the broker denies a write; unit tests leave it to the default, naming no principal. */
    private readonly access = new KafkaAccess(() => 'this client'),
  ) {}

  async connect(): Promise<void> {
    if (this.connected) return;
    await withSecurityErrors(() => this.producer.connect());
    this.connected = true;
  }

  async send(topic: string, messages: readonly OutgoingMessage[], compression: KafkaCompression = 'zstd'): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.producer.send({ topic, acks: -1, compression: COMPRESSION[compression], messages: messages as OutgoingMessage[] });
    } catch (error) {
      if (isTooLargeKafkaError(error)) {
        // A request or a partition's batch over the broker's limit: halves are sent in order (per-key order kept),
        // down to one message. Partitions the broker already accepted are sent again: at-least-once, same ids.
        if (messages.length > 1) {
          const half = Math.ceil(messages.length / 2);
          await this.send(topic, messages.slice(0, half), compression);
          await this.send(topic, messages.slice(half), compression);
          return;
        }
        // One message too large on its own: its own code, so the caller can re-frame it, which no other rejection allows.
        throw new TributaryError('FRAME_TOO_LARGE', `producing to ${topic} failed: ${errorMessage(error)}`, {
          cause: error,
          context: { topic, messages: messages.length },
        });
      }
      const denied = this.access.explain(error, [{ resource: 'topic', names: [topic], operations: ['Write', 'Describe'] }]);
      if (denied !== undefined) throw denied;
      const retriable = isRetriableKafkaError(error);
      throw new TributaryError(retriable ? 'KAFKA_UNAVAILABLE' : 'KAFKA_REJECTED', `producing to ${topic} failed: ${errorMessage(error)}`, {
        cause: error,
        retriable,
        context: { topic, messages: messages.length },
      });
    }
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
