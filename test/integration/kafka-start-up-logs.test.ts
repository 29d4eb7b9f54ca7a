import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { agentConfigSchema } from '../../agent/config.js';
import { validateConfig } from '../../shared/config/load.js';
import { createKafkaClient } from '../../shared/kafka/client.js';
import { brokers, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort } from '../helpers/processes.js';
import { capturingLogger } from '../helpers/sinks.js';

interface LogLine {
  level: number;
  msg: string;
}

/** pino's numeric levels: 40 warn, 50 error, 60 fatal. */
const WARN = 40;
const parse = (lines: readonly string[]): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);
const warningsOrWorse = (lines: readonly string[]): LogLine[] => parse(lines).filter((line) => line.level >= WARN);

/**
 * What a fresh broker says while it elects leaders is an expected start-up state, not an error; a broker that is
 * not there is. Both through the real client against a real broker (or a port nothing listens on).
 */
describe('Kafka start-up log levels', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('ensureTopics returns once every new partition’s leader answers: reading the topics at once works and nothing logs at warn or error', async () => {
    const { logger, lines } = capturingLogger('debug');
    const client = createKafkaClient({ brokers: brokers(), connection_timeout: 10_000, request_timeout: 30_000 }, logger, 'start-up-logs-test');
    // Like a collector's start: several topics of 6 partitions in one request, then their offsets read at once
    // (the alert state restore's first request), which a leader not yet serving answers NOT_LEADER_OR_FOLLOWER.
    const topics = Array.from({ length: 6 }, (_, index) => ({ topic: uniqueName(`start-up-${index}`), partitions: 6 }));
    expect(await client.topicAdmin().ensureTopics(topics)).toEqual(topics.map(({ topic }) => topic));
    for (const { topic } of topics) {
      const read: unknown[] = [];
      await client.readPartitionsToEnd({ topic, partitions: [0, 1, 2, 3, 4, 5], groupPrefix: 'start-up-logs' }, (message) => read.push(message));
      expect(read).toEqual([]);
    }
    expect(warningsOrWorse(lines)).toEqual([]);
  });

  it('a broker that is not there is still reported at warn: one line per attempt from the agent, kafkajs’ own churn at debug', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-start-up-logs-'));
    dirs.push(dir);
    await mkdir(join(dir, 'logs'));
    const { logger, lines } = capturingLogger('debug');
    const agent = new Agent(
      validateConfig(
        agentConfigSchema,
        {
          agent: { id: 'start-up-logs', data_dir: join(dir, 'data'), shutdown_timeout: '1s' },
          // A port nothing listens on: connections are refused, as with a broker that is down.
          kafka: { brokers: [`127.0.0.1:${await freePort()}`], connection_timeout: '1s', request_timeout: '2s' },
          sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')] } },
          output: { retry: { max_backoff: '1s' } },
          telemetry: { port: 0 },
        },
        'test agent config',
      ),
      logger,
    );
    await agent.start();
    try {
      await waitFor(
        'the agent to report Kafka unreachable',
        () => (warningsOrWorse(lines).some((line) => line.msg.startsWith('Kafka unreachable')) ? true : undefined),
        60_000,
        100,
      );
    } finally {
      await agent.stop();
    }
    const kafkajsLines = parse(lines).filter((line) => (line as LogLine & { component?: string }).component === 'kafkajs');
    expect(kafkajsLines.length).toBeGreaterThan(0);
    expect(kafkajsLines.filter((line) => line.level >= WARN)).toEqual([]);
  });
});
