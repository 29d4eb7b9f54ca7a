import { appendFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka } from '../../deploy/dev/kafka/local-kafka.js';
import type { RawLogEvent } from '../../shared/record/raw-event.js';
import { collectRawEvents, uniqueName } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * Kafka unavailable for a minute under a steady write rate: the agent stops
 * reading (files are the buffer) instead of growing, and catches up losing
 * nothing when the broker answers again. The broker is frozen with SIGSTOP,
 * which to clients looks like a hung broker: connections open, no answers.
 */
const OUTAGE_MS = 60_000;
const LINES_PER_TICK = 500;
const TICK_MS = 100; // 5,000 lines/s, about 1 MiB/s
const RSS_BOUND_MIB = 150;

async function residentMib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

describe('backpressure: the broker frozen for a minute under a steady write rate', () => {
  let kafka: LocalKafka | undefined;
  let agent: RunningProcess | undefined;
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await kafka?.stop();
  });

  it('keeps the agent under a fixed memory bound and loses nothing', async () => {
    // Its own broker: freezing the shared one would stall other test files.
    kafka = await startLocalKafka();
    const dir = await mkdtemp(join(tmpdir(), 'tributary-backpressure-'));
    await mkdir(join(dir, 'logs'));
    const logFile = join(dir, 'logs', 'steady.log');
    const topic = uniqueName('backpressure-raw');
    const port = await freePort();
    const config = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'backpressure', data_dir: join(dir, 'data') },
      kafka: { brokers: kafka.brokers, request_timeout: '5s', connection_timeout: '3s' },
      sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')] } },
      output: { topic, partitions: 1, buffer_max_bytes: '4MiB', retry: { max_backoff: '2s' } },
      telemetry: { port },
    });
    agent = startCli('agent', config);
    await waitUntilReady(agent, `http://127.0.0.1:${port}`);
    const pid = agent.child.pid as number;

    let written = 0;
    const writeTick = async () => {
      let chunk = '';
      for (let index = 0; index < LINES_PER_TICK; index++) chunk += `2026-11-23T12:00:00.000Z steady line ${written + index} ${'p'.repeat(150)}\n`;
      await appendFile(logFile, chunk);
      written += LINES_PER_TICK;
    };
    const runFor = async (ms: number, samples: number[]) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await writeTick();
        samples.push(await residentMib(pid));
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
    };

    const before: number[] = [];
    await runFor(5_000, before);
    kafka.pause();
    const during: number[] = [];
    await runFor(OUTAGE_MS, during);
    kafka.resume();
    const after: number[] = [];
    await runFor(5_000, after);

    const peak = Math.max(...before, ...during, ...after);
    process.stderr.write(
      `[backpressure] ${written} lines; agent RSS MiB before ${Math.max(...before).toFixed(0)}, during outage ${Math.max(...during).toFixed(0)}, after ${Math.max(...after).toFixed(0)}\n`,
    );
    expect(peak).toBeLessThan(RSS_BOUND_MIB);

    const expected = written;
    const bodies = new Set<string>();
    let examined = 0;
    await collectRawEvents<RawLogEvent>(
      topic,
      (events) => {
        for (; examined < events.length; examined++) bodies.add((events[examined] as RawLogEvent).body);
        return bodies.size >= expected;
      },
      120_000,
      kafka.brokers,
    );
    for (let index = 0; index < expected; index++) expect(bodies.has(`2026-11-23T12:00:00.000Z steady line ${index} ${'p'.repeat(150)}`)).toBe(true);
  }, 240_000);
});
