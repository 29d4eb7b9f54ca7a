import type { Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.js';
import { AckedProducer } from './producer.js';

/** kafkajs' protocol error for a batch over `message.max.bytes`, as it arrives wrapped by the retrier. */
function messageTooLarge(): Error {
  const cause = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), {
    name: 'KafkaJSProtocolError',
    type: 'MESSAGE_TOO_LARGE',
    retriable: false,
  });
  return Object.assign(new Error(cause.message), { name: 'KafkaJSNonRetriableError', cause });
}

/** A kafkajs producer whose broker refuses any request with more than `maxMessages` messages, or a message over `maxValueBytes`. */
function producerWithBroker(maxMessages: number, maxValueBytes: number) {
  const written: string[] = [];
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    send: (record: ProducerRecord) => {
      if (record.messages.length > maxMessages || record.messages.some((message) => String(message.value).length > maxValueBytes)) {
        return Promise.reject(messageTooLarge());
      }
      written.push(...record.messages.map((message) => String(message.value)));
      return Promise.resolve([]);
    },
  } as unknown as Producer;
  return { written, producer };
}

describe('AckedProducer', () => {
  it('13.4: a request the broker refuses for its size is split and written in order', async () => {
    const { producer: kafkaProducer, written } = producerWithBroker(2, 100);
    const producer = new AckedProducer(kafkaProducer);
    const values = Array.from({ length: 7 }, (_, index) => `m${index}`);
    await producer.send(
      't',
      values.map((value) => ({ key: 'k', value })),
    );
    expect(written).toEqual(values);
  });

  it('13.4: one message too large on its own fails with FRAME_TOO_LARGE, not retriable', async () => {
    const { producer: kafkaProducer, written } = producerWithBroker(10, 5);
    const producer = new AckedProducer(kafkaProducer);
    const error = await producer
      .send('t', [
        { key: 'k', value: 'small' },
        { key: 'k', value: 'much too large' },
      ])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).code).toBe('FRAME_TOO_LARGE');
    expect((error as TributaryError).retriable).toBe(false);
    expect(written).toEqual(['small']);
  });
});
