import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka } from '../../deploy/dev/kafka/local-kafka.js';
import { bodiesInTopic, checkpointOffsets, checkpointsAtEnd, writeLogFiles } from '../helpers/agent-run.js';
import { uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * A file-only agent (the real CLI process) and a broker that is not there at
 * first, then freezes for 3 s under load. Files are their own buffer: the
 * agent must wait, say why, report not ready, and lose nothing.
 */
const LINES_BEFORE_KAFKA = 20_000;
const LINES_DURING_PAUSE = 150_000;
const PAUSE_MS = 3_000;

async function isReady(baseUrl: string): Promise<boolean> {
  return fetch(`${baseUrl}/readyz`).then(
    (response) => response.ok,
    () => false,
  );
}

const unreachableLines = (agent: RunningProcess) =>
  agent
    .stderr()
    .split('\n')
    .filter((line) => line.includes('Kafka unreachable')).length;

describe('a file-only agent while Kafka is away', () => {
  let kafka: LocalKafka | undefined;
  let agent: RunningProcess | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await kafka?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('13.24 + 13.4: starts with Kafka down (alive, not ready, says why), ships when Kafka appears, and loses nothing in a 3 s broker freeze', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-outage-'));
    const logDir = join(dir, 'logs');
    const dataDir = join(dir, 'data');
    await mkdir(logDir);
    const kafkaPort = await freePort();
    const telemetryPort = await freePort();
    const topic = uniqueName('outage-raw');
    const config = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'outage', data_dir: dataDir, checkpoint_interval: '200ms' },
      kafka: { brokers: [`127.0.0.1:${kafkaPort}`], request_timeout: '2s', connection_timeout: '1s' },
      sources: { app: { type: 'file', include: [join(logDir, '*.log')], poll_interval: '100ms' } },
      output: { topic, partitions: 2, retry: { max_backoff: '2s' } },
      telemetry: { port: telemetryPort, listen_address: '127.0.0.1' },
    });
    const baseUrl = `http://127.0.0.1:${telemetryPort}`;
    const first = await writeLogFiles(logDir, 2, LINES_BEFORE_KAFKA, 'early');

    agent = startCli('agent', config);
    const agentStartedAt = Date.now();
    const running = agent;
    let exitCode: number | null | undefined;
    void running.exited.then((code) => (exitCode = code));
    // The agent answers on /healthz, says why it is not ready, and keeps saying it (the old agent exited after ~22 s).
    await waitFor('two "Kafka unreachable" log lines', () => (unreachableLines(running) >= 2 ? true : undefined), 120_000, 200);
    await waitFor('the agent to stay up for 30 s without Kafka', () => (Date.now() - agentStartedAt >= 30_000 ? true : undefined), 60_000, 500);
    expect(exitCode).toBeUndefined();
    expect(await isReady(baseUrl)).toBe(false);
    expect((await fetch(`${baseUrl}/healthz`)).ok).toBe(true);

    kafka = await startLocalKafka({ port: kafkaPort });
    const broker = kafka;
    await waitFor('the agent to become ready', async () => ((await isReady(baseUrl)) ? true : undefined), 120_000, 200);
    await waitFor('checkpoints at the end of the early files', async () => ((await checkpointsAtEnd(dataDir, first.paths)) ? true : undefined), 120_000, 200);

    // Under load, the broker freezes for 3 s (SIGSTOP): requests time out and are retried, none is dropped.
    const second = await writeLogFiles(logDir, 3, LINES_DURING_PAUSE, 'paused');
    await waitFor(
      'the agent to be shipping the new files',
      async () => ((await checkpointOffsets(dataDir)).has(second.paths[0] as string) ? true : undefined),
      30_000,
      20,
    );
    broker.pause();
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    broker.resume();
    const paths = [...first.paths, ...second.paths];
    await waitFor('checkpoints at the end of every file', async () => ((await checkpointsAtEnd(dataDir, paths)) ? true : undefined), 240_000, 250);
    expect(exitCode).toBeUndefined();

    const bodies = new Set(await bodiesInTopic(topic, broker.brokers));
    const missing = [...first.lines, ...second.lines].filter((line) => !bodies.has(line));
    expect(missing).toEqual([]);
    expect(await running.stop()).toBe(0);
  }, 600_000);
});
