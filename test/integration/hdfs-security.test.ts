import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hdfsOutputSchema } from '../../collector/outputs/hdfs/config.js';
import { HdfsSink } from '../../collector/outputs/hdfs/hdfs-sink.js';
import type { WebHdfsClient } from '../../collector/outputs/hdfs/webhdfs-client.js';
import { startLocalHdfs, type LocalHdfs } from '../../deploy/dev/hdfs/local-hdfs.js';
import type { OutgoingRecord } from '../../shared/pipeline/record-sink.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { PipelineMetrics } from '../../shared/telemetry/metrics.js';
import { makeTestCertificates } from '../../shared/test-support/tls-certificates.js';
import { hdfsReader, listFiles, readLines, visibleToReaders } from '../helpers/hdfs.js';
import { logRecord } from '../helpers/records.js';
import { capturingLogger } from '../helpers/sinks.js';

/**
 * The HDFS sink against a real HDFS whose web servers serve HTTPS only
 * (`startLocalHdfs({ secure: true })`: `dfs.http.policy=HTTPS_ONLY`, a per-run
 * CA and keystore): it verifies the namenode's certificate and the datanode's
 * it is redirected to, writes files that read back whole, and an unknown CA
 * keeps it not ready with one error naming the key.
 */
let cluster: LocalHdfs;
let started: LocalHdfs | undefined;
let reader: WebHdfsClient | undefined;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-hdfs-security-'));
  cluster = started = await startLocalHdfs({ secure: true });
}, 240_000);

afterAll(async () => {
  reader?.close();
  await started?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function caFile(): string {
  if (cluster.caFile === undefined) throw new Error('the secured cluster reports no CA');
  return cluster.caFile;
}

function sink(tls: Record<string, unknown>) {
  const parsed = hdfsOutputSchema.parse({
    type: 'hdfs',
    namenodes: [cluster.namenodeUrl],
    auth: { user: 'tributary' },
    path: '/secure/dt={yyyy-MM-dd}',
    retry: { initial_backoff: '100ms', max_backoff: '500ms' },
    tls,
  });
  const metrics = new PipelineMetrics('collector').component({ component_id: 'hdfs_secure', component_type: 'hdfs', component_kind: 'sink' });
  const { logger, lines } = capturingLogger('info');
  return { hdfs: new HdfsSink('hdfs_secure', parsed, metrics, logger), lines };
}

function records(count: number): OutgoingRecord[] {
  return Array.from({ length: count }, (_, index) => {
    const record = logRecord({ id: `secure-${index}`, body: `line ${index} over https` });
    return { record, json: JSON.stringify(record), key: 'k', origin: { topic: 'raw', partition: 0, offset: '7', event: index } };
  });
}

describe('HDFS sink against HTTPS-only WebHDFS', () => {
  it('serves HTTPS only: the namenode URL is https and names the CA', () => {
    expect(cluster.namenodeUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cluster.caFile).toMatch(/ca\.pem$/);
  });

  it('writes through the namenode and the datanode over verified TLS, and the files read back whole', async () => {
    const { hdfs } = sink({ ca_file: caFile() });
    await hdfs.start();
    expect(hdfs.ready()).toBe(true);
    const batch = records(30);
    expect(await hdfs.write(batch)).toEqual({ rejected: [] });
    await hdfs.stop();

    reader = hdfsReader(cluster.namenodeUrl, caFile());
    await reader.open();
    const files = (await listFiles(reader, '/secure')).filter((file) => visibleToReaders(file.path));
    expect(files.map((file) => file.path)).toEqual(['/secure/dt=2026-11-23/raw+0+00000000000000000007-0+00000000000000000007-29.ndjson.gz']);
    const lines = await readLines(reader, (files[0] as { path: string }).path);
    expect(lines.map((line) => (JSON.parse(line) as LogRecord).id)).toEqual(batch.map((outgoing) => outgoing.record.id));
    expect((JSON.parse(lines[29] as string) as LogRecord).body).toBe('line 29 over https');
  });

  it('an unknown CA: not ready, one error naming tls.ca_file', async () => {
    const other = await makeTestCertificates(await mkdtemp(join(dir, 'other-ca-')), 'localhost');
    const { hdfs, lines } = sink({ ca_file: other.caFile });
    const starting = hdfs.start().then(
      () => 'started',
      (error: unknown) => error,
    );
    const line = await vi.waitFor(
      () => {
        const found = lines.map((text) => JSON.parse(text) as { level: number; msg: string; err?: string }).find((entry) => entry.err !== undefined);
        if (found === undefined) throw new Error('no start-up retry logged yet');
        return found;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(hdfs.ready()).toBe(false);
    // 50: error, not warn (40): waiting will not fix it.
    expect(line.level).toBe(50);
    expect(line.err).toBe(
      `WebHDFS MKDIRS /secure: no active namenode answered (${cluster.namenodeUrl}: WebHDFS PUT ${cluster.namenodeUrl}/webhdfs/v1/secure: TLS failed: ` +
        "the server's certificate is not signed by a CA the client trusts: check outputs.hdfs_secure.tls.ca_file " +
        '(SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain))',
    );
    await hdfs.stop();
    expect(await starting).not.toBe('started');
  });
});
