import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { bodiesInTopic, checkpointsAtEnd, fileAgent, writeLogFiles } from '../helpers/agent-run.js';
import { brokers, testKafka, uniqueName, waitFor } from '../helpers/kafka.js';

/**
 * The agent against a topic whose limit is a quarter of Kafka's default: every
 * frame the framer makes (1 MiB uncompressed, about half that compressed) is
 * over it, and so is any request of several frames. Everything must still
 * arrive exactly once, and the checkpoints end at the files' ends.
 */
const TOPIC_MAX_MESSAGE_BYTES = 256 * 1024;
const LINES = 200_000;

describe('the agent against a topic with a small max.message.bytes', () => {
  let agent: Agent | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await agent?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('13.4: 200k lines arrive exactly once and the checkpoints reach the end of every file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-limits-'));
    const logDir = join(dir, 'logs');
    const dataDir = join(dir, 'data');
    await mkdir(logDir);
    const topic = uniqueName('limits-raw');
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) }] }],
      });
    } finally {
      await admin.disconnect();
    }
    // Four files on three partitions: requests mix keys, so record batches of several partitions share one request.
    const { paths, lines } = await writeLogFiles(logDir, 4, LINES);
    agent = fileAgent({ brokers: brokers(), topic, logDir, dataDir });
    await agent.start();
    const metrics = agent.metrics;
    await waitFor('checkpoints at the end of every file', async () => ((await checkpointsAtEnd(dataDir, paths)) ? true : undefined), 240_000, 250);
    await agent.stop();
    agent = undefined;

    const bodies = await bodiesInTopic(topic);
    expect(bodies.length).toBe(LINES);
    expect(new Set(bodies).size).toBe(LINES);
    expect(bodies.every((body) => lines.has(body))).toBe(true);
    const exposition = await metrics.registry.getSingleMetricAsString('tributary_component_discarded_events_total');
    expect(exposition).not.toMatch(/component_id="kafka".* [1-9]/);
  }, 300_000);
});
