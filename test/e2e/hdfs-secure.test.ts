import { appendFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHdfsClient } from '../../collector/outputs/hdfs/webhdfs-client.js';
import { startLocalHdfs, type LocalHdfs } from '../../deploy/dev/hdfs/local-hdfs.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { hdfsReader, listFiles, readLines, visibleToReaders } from '../helpers/hdfs.js';
import { waitFor } from '../helpers/kafka.js';
import { type RunningProcess } from '../helpers/processes.js';
import { sinkPipeline } from '../helpers/pipeline.js';

/**
 * Files → agent → Kafka → collector → a real HDFS whose web servers serve
 * HTTPS only (`dfs.http.policy=HTTPS_ONLY`, per-run CA), through the real
 * processes: the collector verifies the namenode and the datanodes it is
 * redirected to with `tls.ca_file`, and the finished files, read back over
 * HTTPS, hold exactly the lines written.
 */
describe('HDFS sink end to end over HTTPS-only WebHDFS', () => {
  let cluster: LocalHdfs | undefined;
  let reader: WebHdfsClient | undefined;
  const running: RunningProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    cluster = await startLocalHdfs({ secure: true });
    reader = hdfsReader(cluster.namenodeUrl, cluster.caFile);
    await reader.open();
  }, 300_000);

  afterAll(async () => {
    await Promise.all(running.map((process_) => process_.stop('SIGKILL')));
    reader?.close();
    await cluster?.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('holds exactly the lines written, in finished files read back over HTTPS', async () => {
    const secured = cluster as LocalHdfs;
    const base = '/e2e-secure';
    const run = await sinkPipeline({
      sink: 'hdfs',
      name: 'secure',
      dirPrefix: 'tributary-e2e-hdfs-secure-',
      service: 'svc-secure',
      outputs: {
        lake: {
          type: 'hdfs',
          namenodes: [secured.namenodeUrl],
          path: `${base}/{service.name}/dt={yyyy-MM-dd}`,
          auth: { user: 'tributary' },
          tls: { ca_file: secured.caFile },
          roll: { idle_timeout: '2s' },
          retry: { initial_backoff: '200ms', max_backoff: '2s' },
        },
      },
      running,
      dirs,
    });
    await run.startCollector();
    await run.startAgent();
    const expected = Array.from({ length: 2_000 }, (_, index) => `secure line ${index}`);
    await appendFile(run.logFile, `${expected.join('\n')}\n`);
    const client = reader as WebHdfsClient;
    const done = await waitFor(
      'every line in a finished HDFS file',
      async () => {
        const files = await listFiles(client, base);
        const bodies: string[] = [];
        for (const file of files.filter((f) => visibleToReaders(f.path))) {
          for (const line of await readLines(client, file.path)) bodies.push((JSON.parse(line) as LogRecord).body);
        }
        const inProgress = files.filter((f) => !visibleToReaders(f.path));
        return bodies.length === expected.length && inProgress.length === 0 ? bodies : undefined;
      },
      120_000,
      500,
    );
    expect(done.sort()).toEqual([...expected].sort());
  }, 180_000);
});
