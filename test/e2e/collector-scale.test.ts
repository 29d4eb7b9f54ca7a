import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeEvents } from '../../shared/frame/frame-codec.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { brokers, consumeUntil, testKafka, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * Scale-out is Kafka's: collectors in one group share the raw partitions. One
 * million raw events through three collectors, one SIGKILLed mid-stream and
 * another added later: every event reaches tributary.logs, and the only extra
 * records are repeats of ids already delivered (replays after the kill).
 */
const EVENTS = 1_000_000;
const PER_FRAME = 2_000;
const PARTITIONS = 6;

function rawEvent(index: number) {
  return {
    id: index.toString(16).padStart(32, '0'),
    observed_at: '2026-11-23T12:00:00.000Z',
    body: `scale event ${index}`,
    host: `host-${index % 12}`,
    agent_id: `agent-${index % 12}`,
    source: { type: 'file', name: 'app', path: `/var/log/app-${index % 12}.log`, file_id: 'c0', offset: index },
  };
}

async function producedCount(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('collector scale-out: one million events, three members, a SIGKILL and a late joiner (real broker)', () => {
  const running: RunningProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((process_) => process_.stop('SIGKILL')));
  });

  it('delivers every event id to tributary.logs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-scale-'));
    const rawTopic = uniqueName('scale-raw');
    const logsTopic = uniqueName('scale-logs');
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: rawTopic, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();

    const producer = testKafka().producer();
    await producer.connect();
    for (let start = 0; start < EVENTS; start += PER_FRAME * 10) {
      const messages = [];
      for (let frameStart = start; frameStart < Math.min(EVENTS, start + PER_FRAME * 10); frameStart += PER_FRAME) {
        const frame = encodeEvents(
          'raw.log.v1',
          Array.from({ length: PER_FRAME }, (_, offset) => rawEvent(frameStart + offset)),
        );
        messages.push({ key: `k${frameStart / PER_FRAME}`, value: frame.value, headers: frame.headers });
      }
      await producer.send({ topic: rawTopic, acks: -1, messages });
    }
    await producer.disconnect();

    const group = uniqueName('scale-group');
    const startCollector = async () => {
      const port = await freePort();
      const config = await writeYaml(join(dir, `collector-${port}.yaml`), {
        collector: { group_id: group },
        kafka: { brokers: brokers() },
        input: { topics: [rawTopic], session_timeout: '6s', heartbeat_interval: '1s', commit_interval: '200ms' },
        outputs: { normalized: { type: 'kafka_topics', logs_topic: logsTopic, partitions: PARTITIONS } },
        dead_letter: { topic: uniqueName('scale-dlq') },
        telemetry: { port, log_level: 'info' },
      });
      const collector = startCli('collector', config);
      running.push(collector);
      await waitUntilReady(collector, `http://127.0.0.1:${port}`, 150_000);
      return collector;
    };
    await startCollector();
    const victim = await startCollector();
    await startCollector();
    await waitFor(
      'a third of the events normalized',
      async () => ((await producedCount(logsTopic).catch(() => 0)) > EVENTS / 3 ? true : undefined),
      180_000,
      500,
    );
    await victim.stop('SIGKILL');
    await waitFor('two thirds of the events normalized', async () => ((await producedCount(logsTopic)) > (2 * EVENTS) / 3 ? true : undefined), 180_000, 500);
    await startCollector();
    await waitFor('every event normalized', async () => ((await producedCount(logsTopic)) >= EVENTS ? true : undefined), 240_000, 500);

    // Streamed, not collected: a million records would be half a gigabyte of test memory.
    const seen = new Set<string>();
    let read = 0;
    let mismatched = 0;
    await consumeUntil(
      logsTopic,
      (message) => {
        read++;
        const record = JSON.parse(message.value.toString()) as LogRecord;
        if (record.body !== `scale event ${Number.parseInt(record.id, 16)}`) mismatched++;
        seen.add(record.id);
        return seen.size === EVENTS;
      },
      () => `saw ${seen.size} of ${EVENTS} distinct ids in ${read} records`,
      300_000,
    );
    expect(mismatched).toBe(0);
    expect(seen.size).toBe(EVENTS);
    const total = await producedCount(logsTopic);
    process.stderr.write(`[scale] ${EVENTS} events, ${total} records in ${logsTopic} (${total - EVENTS} replayed after the SIGKILL)\n`);
  }, 600_000);

  it('--workers 2 runs two members of the group on one host and drains both on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-workers-'));
    const group = uniqueName('workers-group');
    const port = await freePort();
    const config = await writeYaml(join(dir, 'collector.yaml'), {
      collector: { group_id: group },
      kafka: { brokers: brokers() },
      input: { topics: [uniqueName('workers-raw')] },
      outputs: { normalized: { type: 'kafka_topics', logs_topic: uniqueName('workers-logs') } },
      dead_letter: { topic: uniqueName('workers-dlq') },
      telemetry: { port },
    });
    const supervisor = startCli('collector', config, {}, ['--workers', '2']);
    running.push(supervisor);
    // Worker i serves its metrics on port + i.
    await waitUntilReady(supervisor, `http://127.0.0.1:${port}`);
    await waitUntilReady(supervisor, `http://127.0.0.1:${port + 1}`);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await waitFor('two members in the group', async () => {
        const { groups } = await admin.describeGroups([group]);
        return groups[0]?.members.length === 2 ? true : undefined;
      });
    } finally {
      await admin.disconnect();
    }
    expect(await supervisor.stop('SIGTERM')).toBe(0);
  });
});
