import { appendFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../shared/record/log-record.js';
import { eventId } from '../../shared/record/event-id.js';
import { fingerprintOfPath } from '../../agent/sources/file/file-identity.js';
import { brokers, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

const LINES_PER_APPEND = 2_000;
const APPENDS = 10;
const TOTAL = LINES_PER_APPEND * APPENDS;
const AGENT_ID = 'crash-agent';

const lineText = (index: number) => `crash test line ${index} ${'payload '.repeat(index % 5)}`;

interface Pipeline {
  dir: string;
  logFile: string;
  recordsFile: string;
  startAgent(): Promise<RunningProcess>;
  startCollector(): Promise<RunningProcess>;
}

async function pipeline(): Promise<Pipeline> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-crash-'));
  const logFile = join(dir, 'logs', 'app.log');
  const recordsFile = join(dir, 'records.ndjson');
  await mkdir(join(dir, 'logs'));
  await appendFile(logFile, '');
  const rawTopic = uniqueName('crash-raw');
  const agentPort = await freePort();
  const collectorPort = await freePort();
  const agentConfig = await writeYaml(join(dir, 'agent.yaml'), {
    agent: { id: AGENT_ID, data_dir: join(dir, 'agent-data'), checkpoint_interval: '100ms' },
    kafka: { brokers: brokers() },
    sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')] } },
    framer: { linger: '20ms', max_events: 500 },
    output: { topic: rawTopic, partitions: 2 },
    telemetry: { port: agentPort },
  });
  const collectorConfig = await writeYaml(join(dir, 'collector.yaml'), {
    collector: { group_id: uniqueName('crash-group') },
    kafka: { brokers: brokers() },
    // The broker's minimum session timeout, so the group notices the killed collector quickly.
    input: { topics: [rawTopic], commit_interval: '100ms', max_step_bytes: '16KiB', session_timeout: '6s', heartbeat_interval: '1s' },
    outputs: { local: { type: 'file', path: recordsFile } },
    dead_letter: { topic: uniqueName('crash-dlq') },
    telemetry: { port: collectorPort },
  });
  return {
    dir,
    logFile,
    recordsFile,
    startAgent: async () => {
      const agent = startCli('agent', agentConfig);
      await waitUntilReady(agent, `http://127.0.0.1:${agentPort}`);
      return agent;
    },
    startCollector: async () => {
      const collector = startCli('collector', collectorConfig);
      await waitUntilReady(collector, `http://127.0.0.1:${collectorPort}`);
      return collector;
    },
  };
}

async function appendLines(logFile: string, batch: number): Promise<void> {
  const start = batch * LINES_PER_APPEND;
  await appendFile(logFile, Array.from({ length: LINES_PER_APPEND }, (_, index) => `${lineText(start + index)}\n`).join(''));
}

async function records(file: string): Promise<LogRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogRecord);
}

async function expectedIds(logFile: string): Promise<string[]> {
  const fileId = (await fingerprintOfPath(logFile)) as string;
  const ids: string[] = [];
  let offset = 0;
  for (let index = 0; index < TOTAL; index++) {
    ids.push(eventId(AGENT_ID, fileId, offset));
    offset += Buffer.byteLength(lineText(index)) + 1;
  }
  return ids;
}

/** Nothing lost; a replayed record is the same event (same id, same body), never a different one. */
async function expectCompleteWithStableIds(run: Pipeline): Promise<{ duplicates: number }> {
  const expected = await expectedIds(run.logFile);
  const bodyById = new Map(expected.map((id, index) => [id, lineText(index)]));
  await waitFor(
    `all ${TOTAL} lines in the sink`,
    async () => {
      const seen = new Set((await records(run.recordsFile)).map((record) => record.id));
      return expected.every((id) => seen.has(id)) || undefined;
    },
    120_000,
    250,
  );
  const all = await records(run.recordsFile);
  for (const record of all) expect(record.body).toBe(bodyById.get(record.id));
  return { duplicates: all.length - new Set(all.map((record) => record.id)).size };
}

describe('crash recovery (real broker, SIGKILL)', () => {
  const running: RunningProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((process_) => process_.stop('SIGKILL')));
  });

  it('an agent killed mid-stream resumes from its checkpoint: no line lost', async () => {
    const run = await pipeline();
    running.push(await run.startCollector());
    let agent = await run.startAgent();
    running.push(agent);
    for (let batch = 0; batch < APPENDS / 2; batch++) await appendLines(run.logFile, batch);
    await waitFor('some records delivered', async () => ((await records(run.recordsFile)).length > LINES_PER_APPEND ? true : undefined));
    await agent.stop('SIGKILL');
    for (let batch = APPENDS / 2; batch < APPENDS; batch++) await appendLines(run.logFile, batch);
    agent = await run.startAgent();
    running.push(agent);
    const { duplicates } = await expectCompleteWithStableIds(run);
    // Re-read lines are at most those read before the kill (all of them if it came before the first checkpoint write).
    expect(duplicates).toBeLessThanOrEqual(TOTAL / 2);
  });

  it('a collector killed mid-stream resumes from its committed offsets: no record lost', async () => {
    const run = await pipeline();
    let collector = await run.startCollector();
    running.push(collector);
    running.push(await run.startAgent());
    for (let batch = 0; batch < APPENDS; batch++) await appendLines(run.logFile, batch);
    await waitFor('some records delivered', async () => ((await records(run.recordsFile)).length > LINES_PER_APPEND ? true : undefined));
    await collector.stop('SIGKILL');
    collector = await run.startCollector();
    running.push(collector);
    const { duplicates } = await expectCompleteWithStableIds(run);
    expect(duplicates).toBeLessThan(TOTAL);
  });
});
