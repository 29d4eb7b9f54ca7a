import { describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../shared/kafka/client.js';
import type { PartitionMessage, ReadPartitionsRequest } from '../../shared/kafka/partition-reader.js';
import type { MessageProducer, OutgoingMessage } from '../../shared/kafka/producer.js';
import type { AlertKeyState } from './evaluator.js';
import { AlertStateStore } from './state-store.js';

function state(rule: string, lastSeen: number): AlertKeyState {
  return { rule, key: 'k', labels: {}, slices: {}, applied: {}, lastSeen, evaluatedUntil: 0, evaluated: false } as unknown as AlertKeyState;
}

/** A reader over a fixed log, and a producer appending to it, as the compacted topic would before compaction. */
function fakeKafka() {
  const log: PartitionMessage[] = [];
  const requests: ReadPartitionsRequest[] = [];
  const reader: Pick<KafkaClient, 'readPartitionsToEnd'> = {
    readPartitionsToEnd: (request, onMessage) => {
      requests.push(request);
      for (const message of log) if (request.partitions.includes(message.partition)) onMessage(message);
      return Promise.resolve();
    },
  };
  const producer: MessageProducer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    send: (_topic, messages: readonly OutgoingMessage[]) => {
      for (const sent of messages) {
        const value = sent.value === null ? null : Buffer.from(sent.value);
        log.push({ partition: sent.partition ?? 0, offset: String(log.length), key: sent.key == null ? null : Buffer.from(sent.key), value });
      }
      return Promise.resolve();
    },
  };
  return { reader, producer, requests };
}

describe('AlertStateStore', () => {
  it('loads the latest state of each key of the requested partitions, forgetting tombstoned keys', async () => {
    const { reader, producer, requests } = fakeKafka();
    const store = new AlertStateStore(reader, 'state', producer, 'group.alerting');
    await store.save([
      { id: 'a', partition: 0, state: state('a', 1) },
      { id: 'b', partition: 1, state: state('b', 1) },
      { id: 'c', partition: 2, state: state('c', 1) },
    ]);
    await store.save([
      { id: 'a', partition: 0, state: state('a', 2) },
      { id: 'b', partition: 1, state: undefined },
    ]);

    const loaded = await store.load([0, 1], 5_000);

    expect([...loaded.entries()]).toEqual([['a', { partition: 0, state: state('a', 2) }]]);
    expect(requests).toEqual([{ topic: 'state', partitions: [0, 1], groupPrefix: 'group.alerting.restore', timeoutMs: 5_000 }]);
  });
});
