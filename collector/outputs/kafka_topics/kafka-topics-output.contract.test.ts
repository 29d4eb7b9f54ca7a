import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { RequestHold, sinkContract } from '../test-support/sink-contract.js';
import { kafkaTopicsOutputSchema } from './config.js';
import { FakeProducer } from '../../../shared/test-support/fake-producer.js';
import { KafkaTopicsOutput } from './kafka-topics-output.js';

sinkContract({
  name: 'kafka_topics',
  // The producer's own retries are inside `send`; what still fails rejects retriably and the pipeline writes the batch again.
  retries: 'caller',
  unavailableReason: 'kafka_unavailable',
  refusesRecords: false,
  // No transactions: a replay is produced again with the same ids (README "Duplicates only with the same id").
  dedupesReplays: false,
  replaysCountAsSent: true,
  // The producer is shared and closed by the collector after the outputs: stop does not cut a send short.
  atStop: 'completes',
  async create() {
    const producer = new FakeProducer();
    const hold = new RequestHold();
    producer.beforeAnswer = () => hold.pass();
    const { families, metrics } = testComponentMetrics('sink');
    const sink = new KafkaTopicsOutput('normalized', kafkaTopicsOutputSchema.parse({ type: 'kafka_topics' }), producer, metrics);
    await sink.start();
    return {
      sink,
      families,
      held: () => Promise.resolve(producer.sent.flatMap(({ messages }) => messages.map((message) => (JSON.parse(String(message.value)) as { id: string }).id))),
      unavailableFor: (attempts) => {
        producer.unavailableFor = attempts;
      },
      refuse: () => {
        throw new Error('Kafka takes every record');
      },
      hold: () => hold.arm(),
      close: () => Promise.resolve(),
    };
  },
});
