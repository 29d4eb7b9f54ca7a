import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { startLocalKafka, type LocalKafka } from './local-kafka.js';

/** Produce one message and read it back through a consumer group: the broker works end to end. */
async function roundTrip(broker: LocalKafka): Promise<string> {
  const kafka = new Kafka({ clientId: 'local-kafka-test', brokers: broker.brokers, logLevel: logLevel.ERROR });
  const topic = `local-kafka-test-${broker.port}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `local-kafka-test-${broker.port}`, maxWaitTimeInMs: 200 });
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: `hello from ${broker.port}` }] });

    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = new Promise<string>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          resolve(message.value?.toString() ?? '');
          return Promise.resolve();
        },
      });
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no message from ${broker.brokers[0]}`)), 60_000).unref());
    return await Promise.race([received, timeout]);
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  }
}

/** A pid that certainly belongs to no running process: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('startLocalKafka', () => {
  it('runs two brokers side by side, each serving a consumer group, and cleans up after itself', { timeout: 240_000 }, async () => {
    // What a SIGKILLed earlier run leaves behind: the next start must remove it.
    const pid = deadPid();
    const stale = join(tmpdir(), `tributary-kafka-${pid}-stale0`);
    await mkdir(join(stale, 'kraft-logs'), { recursive: true });
    await writeFile(join(stale, 'owner.pid'), `${pid}\n`);

    const started = await Promise.allSettled([startLocalKafka(), startLocalKafka()]);
    const brokers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      for (const result of started) if (result.status === 'rejected') throw result.reason;
      const [a, b] = brokers as [LocalKafka, LocalKafka];

      expect(existsSync(stale)).toBe(false);
      expect(a.port).not.toBe(b.port);
      expect(a.dataDir).not.toBe(b.dataDir);
      expect(a.brokers).toEqual([`127.0.0.1:${a.port}`]);
      expect(existsSync(join(a.dataDir, 'server.log'))).toBe(true);

      const [fromA, fromB] = await Promise.all([roundTrip(a), roundTrip(b)]);
      expect(fromA).toBe(`hello from ${a.port}`);
      expect(fromB).toBe(`hello from ${b.port}`);
    } finally {
      await Promise.all(brokers.map((broker) => broker.stop()));
    }

    for (const broker of brokers) {
      expect(existsSync(broker.dataDir)).toBe(false);
      // stop() is idempotent.
      await expect(broker.stop()).resolves.toBeUndefined();
    }
  });
});
