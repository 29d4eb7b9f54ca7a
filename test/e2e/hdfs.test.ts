import { appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHdfsClient } from '../../collector/outputs/hdfs/webhdfs-client.js';
import { startLocalHdfs, type LocalHdfs } from '../../deploy/dev/hdfs/local-hdfs.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { hdfsReader, listFiles, readLines, visibleToReaders } from '../helpers/hdfs.js';
import { waitFor } from '../helpers/kafka.js';
import { type RunningProcess } from '../helpers/processes.js';
import { sinkPipeline } from '../helpers/pipeline.js';

/**
 * Files → agent → Kafka → collector → a real HDFS (hadoop-client-minicluster
 * 3.5.0 from Maven Central jars), through the real processes: the records in
 * finished HDFS files, read back over WebHDFS and decompressed, are exactly
 * the lines written, also when the collector is SIGKILLed mid-stream and
 * restarted; nothing is left in _tmp once files roll.
 */
describe('HDFS sink end to end (real HDFS, real processes)', () => {
  let cluster: LocalHdfs | undefined;
  let reader: WebHdfsClient | undefined;
  const running: RunningProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    cluster = await startLocalHdfs();
    reader = hdfsReader(cluster.namenodeUrl);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(running.map((process_) => process_.stop('SIGKILL')));
    reader?.close();
    await cluster?.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function pipeline(name: string, compression: 'gzip' | 'zstd') {
    if (!cluster) throw new Error('no cluster');
    const base = `/e2e-${name}`;
    const run = await sinkPipeline({
      sink: 'hdfs',
      name,
      dirPrefix: `tributary-e2e-hdfs-${name}-`,
      service: `svc-${name}`,
      framer: { max_events: 500 },
      input: { max_step_events: 2_000 },
      outputs: {
        lake: {
          type: 'hdfs',
          namenodes: [cluster.namenodeUrl],
          path: `${base}/{service.name}/dt={yyyy-MM-dd}/hr={HH}`,
          compression,
          auth: { user: 'tributary' },
          roll: { idle_timeout: '2s' },
          retry: { initial_backoff: '200ms', max_backoff: '2s' },
        },
      },
      running,
      dirs,
    });
    return { ...run, base };
  }

  /** Bodies of the records in files readers see, and the files still in progress or marked open. */
  async function contents(base: string): Promise<{ bodies: string[]; ids: string[]; inProgress: string[] }> {
    const client = reader as WebHdfsClient;
    const files = await listFiles(client, base);
    const bodies: string[] = [];
    const ids: string[] = [];
    for (const file of files.filter((f) => visibleToReaders(f.path))) {
      for (const line of await readLines(client, file.path)) {
        const record = JSON.parse(line) as LogRecord;
        bodies.push(record.body);
        ids.push(record.id);
      }
    }
    return { bodies, ids, inProgress: files.filter((f) => !visibleToReaders(f.path)).map((f) => f.path) };
  }

  /** Lines in `files` log files, `perFile` each, appended in one go per file. */
  async function writeLines(dir: string, prefix: string, files: number, perFile: number): Promise<string[]> {
    const expected: string[] = [];
    for (let file = 0; file < files; file++) {
      let text = '';
      for (let index = 0; index < perFile; index++) {
        const body = `${prefix} file ${file} line ${index} ${'x'.repeat(60)}`;
        text += `${body}\n`;
        expected.push(body);
      }
      await appendFile(join(dir, 'logs', `app-${file}.log`), text);
    }
    return expected;
  }

  it('holds exactly the lines written, in finished files, once they roll', async () => {
    const run = await pipeline('basic', 'zstd');
    await run.startCollector();
    await run.startAgent();
    const expected = await writeLines(run.dir, 'basic', 3, 2_000);
    const done = await waitFor(
      'every line in a finished HDFS file',
      async () => {
        const now = await contents(run.base);
        return now.bodies.length === expected.length && now.inProgress.length === 0 ? now : undefined;
      },
      120_000,
      500,
    );
    expect(done.bodies.sort()).toEqual(expected.sort());
    expect(new Set(done.ids).size).toBe(expected.length);
  }, 180_000);

  it('holds every record exactly once after the collector is SIGKILLed mid-stream and restarted', async () => {
    const run = await pipeline('crash', 'gzip');
    const expected = await writeLines(run.dir, 'crash', 4, 10_000);
    await run.startAgent();
    const collector = await run.startCollector();
    // Mid-stream: some records are in HDFS (in files still in progress, too), far from all.
    await waitFor(
      'some records written',
      async () => {
        const files = await listFiles(reader as WebHdfsClient, run.base);
        return files.some((file) => file.path.includes('/_tmp/')) ? true : undefined;
      },
      120_000,
      50,
    );
    await collector.stop('SIGKILL');
    const atKill = await contents(run.base);
    expect(atKill.bodies.length).toBeLessThan(expected.length);
    const restarted = await run.startCollector();
    const done = await waitFor(
      'every line in a finished HDFS file after the restart',
      async () => {
        const now = await contents(run.base);
        if (now.bodies.length > expected.length) return now; // duplicates: fail below with the details
        return now.bodies.length === expected.length && now.inProgress.length === 0 ? now : undefined;
      },
      150_000,
      500,
    );
    expect(done.bodies.length).toBe(expected.length);
    expect(new Set(done.ids).size).toBe(expected.length);
    expect(done.bodies.sort()).toEqual(expected.sort());
    expect(done.inProgress).toEqual([]);
    // What the killed collector left in progress was found (through its markers) and finished by the new one.
    if (atKill.inProgress.length > 0) expect(restarted.stderr()).toContain('recovered in-progress files left by an earlier collector');
  }, 300_000);
});
