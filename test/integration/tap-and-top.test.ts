import { appendFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../shared/record/log-record.js';
import type { RawLogEvent } from '../../shared/record/raw-event.js';
import { brokers, uniqueName } from '../helpers/kafka.js';
import { freePort, runCli, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * `tributary tap` and `tributary top` as an operator runs them, against a real agent and collector: records
 * sampled live from a source and from an output, the errors a mistyped point or a tap left off give, and the
 * terminal view of both processes (one snapshot, as when stdout is not a terminal).
 */
describe('tributary tap and tributary top (real agent and collector)', () => {
  let dir: string;
  let agent: RunningProcess | undefined;
  let collector: RunningProcess | undefined;
  let writer: NodeJS.Timeout | undefined;
  let agentUrl: string;
  let collectorUrl: string;
  let logFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-tap-'));
    await mkdir(join(dir, 'logs'));
    logFile = join(dir, 'logs', 'app.log');
    const rawTopic = uniqueName('tap-raw');
    const [agentPort, collectorPort] = [await freePort(), await freePort()];
    agentUrl = `http://127.0.0.1:${agentPort}`;
    collectorUrl = `127.0.0.1:${collectorPort}`;
    const collectorConfig = await writeYaml(join(dir, 'collector.yaml'), {
      collector: { group_id: uniqueName('tap'), instance_name: 'tap-collector' },
      kafka: { brokers: brokers() },
      input: { topics: [rawTopic] },
      outputs: { normalized: { type: 'kafka_topics', logs_topic: uniqueName('tap-logs') } },
      telemetry: { port: collectorPort, tap: true },
    });
    const agentConfig = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'tap-agent', data_dir: join(dir, 'agent-data') },
      kafka: { brokers: brokers() },
      sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')] } },
      output: { topic: rawTopic },
      telemetry: { port: agentPort, tap: true },
    });
    collector = startCli('collector', collectorConfig);
    agent = startCli('agent', agentConfig);
    await waitUntilReady(collector, `http://${collectorUrl}`);
    await waitUntilReady(agent, agentUrl);
    let line = 0;
    // Lines keep coming while the taps are open: a tap sees records as they pass, not what passed before.
    writer = setInterval(() => void appendFile(logFile, `tap line ${line++}\n`), 50);
  }, 180_000);

  afterAll(async () => {
    clearInterval(writer);
    await agent?.stop('SIGKILL');
    await collector?.stop('SIGKILL');
  });

  it('samples exactly --limit events from an agent source, in order, as JSON lines', async () => {
    const { code, stdout, stderr } = await runCli(['tap', '--url', agentUrl, '--point', 'source.app', '--limit', '5', '--seconds', '60']);
    expect(stderr).toBe('tributary tap: 5 records from source.app (limit 5, 60 s)\n');
    expect(code).toBe(0);
    const events = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as RawLogEvent);
    expect(events).toHaveLength(5);
    const numbers = events.map((event) => Number(/^tap line (\d+)$/.exec(event.body)?.[1]));
    // Consecutive lines of the file: a tap takes a batch's events in order and none in between.
    expect(numbers.every((number, index) => index === 0 || number === (numbers[index - 1] ?? 0) + 1)).toBe(true);
    expect(events.every((event) => event.source.path === logFile && event.agent_id === 'tap-agent')).toBe(true);
  });

  it('samples normalized records from a collector output with --output, and every record after the processors', async () => {
    const fromOutput = await runCli(['tap', '--url', collectorUrl, '--output', 'normalized', '--limit', '3', '--seconds', '60']);
    expect(fromOutput.code).toBe(0);
    const records = fromOutput.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as LogRecord);
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record.schema).toBe('tributary.log.v1');
      expect(record.body).toMatch(/^tap line \d+$/);
      expect(record.resource['tributary.agent.id']).toBe('tap-agent');
    }
    const processed = await runCli(['tap', '--url', collectorUrl, '--point', 'processed', '--limit', '2', '--seconds', '60']);
    expect(processed.stdout.trimEnd().split('\n')).toHaveLength(2);
  });

  it('names the valid points when the point is unknown, and stops at --seconds when nothing passes', async () => {
    const unknown = await runCli(['tap', '--url', collectorUrl, '--output', 'nosuch']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      `tributary tap: http://${collectorUrl} answered 404: no tap point "output.nosuch"; this process has: processed, output.normalized, dead_letter\n`,
    );
    // No dead letter passes in a healthy pipeline: the tap ends at its deadline with nothing.
    const quiet = await runCli(['tap', '--url', collectorUrl, '--point', 'dead_letter', '--seconds', '1']);
    expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: 'tributary tap: 0 records from dead_letter (limit 10, 1 s)\n' });
  });

  it('top prints both processes with their files, outputs, partitions and steps, and exits 1 when one is unreachable', async () => {
    const both = await runCli(['top', '--once', '--url', agentUrl, '--url', collectorUrl]);
    expect(both.stderr).toBe('');
    expect(both.code).toBe(0);
    expect(both.stdout).toMatch(/^agent tap-agent {2}READY {2}v\d+\.\d+\.\d+ /m);
    expect(both.stdout).toMatch(/^collector tap-\w+-\w+\/tap-collector {2}READY /m);
    for (const title of ['Files', 'Kafka outputs', 'Components', 'Assigned partitions', 'Steps by partition']) expect(both.stdout).toContain(`\n${title}`);
    expect(both.stdout).toContain(logFile);

    const unreachable = `127.0.0.1:${await freePort()}`;
    const withDown = await runCli(['top', '--once', '--url', agentUrl, '--url', unreachable]);
    expect(withDown.code).toBe(1);
    expect(withDown.stdout).toMatch(new RegExp(`^http://${unreachable.replaceAll('.', '\\.')}/ {2}UNREACHABLE {2}.*ECONNREFUSED`, 'm'));
  });
});
