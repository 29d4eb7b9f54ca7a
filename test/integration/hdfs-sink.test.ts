import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hdfsOutputSchema } from '../../collector/outputs/hdfs/config.js';
import { HdfsSink } from '../../collector/outputs/hdfs/hdfs-sink.js';
import type { WebHdfsClient } from '../../collector/outputs/hdfs/webhdfs-client.js';
import { startLocalHdfs, type LocalHdfs } from '../../deploy/dev/hdfs/local-hdfs.js';
import type { OutgoingRecord } from '../../shared/pipeline/record-sink.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { PipelineMetrics } from '../../shared/telemetry/metrics.js';
import { hdfsReader, listFiles, readLines, visibleToReaders } from '../helpers/hdfs.js';
import { logRecord } from '../helpers/records.js';

/**
 * The HDFS sink against a real HDFS (hadoop-client-minicluster 3.5.0):
 * every format read back and decompressed with exact contents, recovery from
 * what a crash leaves (an append past the committed length, a create never
 * renamed, a file in a directory the next owner never writes), and values
 * that try to leave the base path.
 */
let cluster: LocalHdfs;
let reader: WebHdfsClient;
let run = 0;

beforeAll(async () => {
  cluster = await startLocalHdfs();
  reader = hdfsReader(cluster.namenodeUrl);
}, 240_000);

afterAll(async () => {
  reader.close();
  await cluster.stop();
});

function sink(config: Record<string, unknown>): HdfsSink {
  const parsed = hdfsOutputSchema.parse({ type: 'hdfs', namenodes: [cluster.namenodeUrl], auth: { user: 'tributary' }, ...config });
  const metrics = new PipelineMetrics('collector').component({ component_id: 'hdfs', component_type: 'hdfs', component_kind: 'sink' });
  return new HdfsSink('hdfs', parsed, metrics, silentLogger());
}

/** `frames` frames of `perFrame` records each from one source partition, offsets from `firstOffset`. */
function frames(options: {
  topic?: string;
  partition?: number;
  firstOffset: number;
  frames: number;
  perFrame: number;
  record?: (offset: number, index: number) => Partial<LogRecord>;
}): OutgoingRecord[] {
  const out: OutgoingRecord[] = [];
  for (let frame = 0; frame < options.frames; frame++) {
    const offset = options.firstOffset + frame;
    for (let index = 0; index < options.perFrame; index++) {
      const record = logRecord({
        id: `${options.topic ?? 'raw'}-${options.partition ?? 0}-${offset}-${index}`,
        body: `line ${index} of frame ${offset}`,
        resource: { 'service.name': 'api' },
        ...options.record?.(offset, index),
      });
      out.push({
        record,
        json: JSON.stringify(record),
        key: 'k',
        origin: { topic: options.topic ?? 'raw', partition: options.partition ?? 0, offset: String(offset), event: index },
      });
    }
  }
  return out;
}

async function allRecords(base: string): Promise<{ files: string[]; ids: string[]; hidden: string[] }> {
  const files = await listFiles(reader, base);
  const visible = files.filter((file) => visibleToReaders(file.path));
  const ids: string[] = [];
  for (const file of visible) for (const line of await readLines(reader, file.path)) ids.push((JSON.parse(line) as LogRecord).id);
  return { files: visible.map((file) => file.path), ids, hidden: files.filter((file) => !visibleToReaders(file.path)).map((file) => file.path) };
}

function idsOf(records: readonly OutgoingRecord[]): string[] {
  return records.map((record) => record.record.id);
}

describe('HDFS sink against a real HDFS', () => {
  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    it(`writes ${compression} files partitioned by attribute and event hour, readable whole after appends`, async () => {
      const base = `/it${++run}-${compression}`;
      const hdfs = sink({ path: `${base}/{service.name}/dt={yyyy-MM-dd}/hr={HH}/`, compression });
      await hdfs.start();
      // Three steps, each two frames; two services and two hours.
      const record = (offset: number, index: number): Partial<LogRecord> => ({
        resource: { 'service.name': index % 2 === 0 ? 'api' : 'web' },
        timestamp: offset % 2 === 0 ? '2026-11-23T09:15:00.000Z' : '2026-11-23T10:45:00.000Z',
      });
      const steps = [0, 2, 4].map((firstOffset) => frames({ firstOffset, frames: 2, perFrame: 50, record }));
      for (const step of steps) await hdfs.write(step);
      const during = await listFiles(reader, base);
      // In progress: only under _tmp, invisible to readers, each name recording its committed length.
      expect(during.filter((file) => !file.path.includes('/_tributary/')).every((file) => file.path.includes('/_tmp/'))).toBe(true);
      for (const file of during.filter((f) => f.path.includes('/_tmp/'))) expect(file.path).toMatch(new RegExp(`\\+${file.length}\\.ndjson`));
      await hdfs.stop();
      const { files, ids, hidden } = await allRecords(base);
      expect(hidden).toEqual([]);
      const extension = compression === 'gzip' ? '.ndjson.gz' : compression === 'zstd' ? '.ndjson.zst' : '.ndjson';
      expect(files).toEqual(
        ['api', 'web'].flatMap((service) =>
          ['09', '10'].map((hour) => {
            // Positions are <offset>-<event in the frame>: api has the even events of each frame, web the odd ones.
            const [first, last] = service === 'api' ? [0, 48] : [1, 49];
            const [start, end] = hour === '09' ? ['00000000000000000000', '00000000000000000004'] : ['00000000000000000001', '00000000000000000005'];
            return `${base}/${service}/dt=2026-11-23/hr=${hour}/raw+0+${start}-${first}+${end}-${last}${extension}`;
          }),
        ),
      );
      expect(ids.sort()).toEqual(steps.flatMap(idsOf).sort());
      // Exact content: each line is the record's JSON as the pipeline serialized it.
      const lines = await readLines(reader, files[0] as string);
      expect(JSON.parse(lines[0] as string)).toMatchObject({ schema: 'tributary.log.v1', resource: { 'service.name': 'api' } });
    });
  }

  it('rolls by record count into consecutive offset ranges', async () => {
    const base = `/it${++run}-roll`;
    const hdfs = sink({ path: `${base}/{service.name}`, roll: { max_records: 100 } });
    await hdfs.start();
    for (let step = 0; step < 5; step++) await hdfs.write(frames({ firstOffset: step * 2, frames: 2, perFrame: 30 }));
    await hdfs.stop();
    const { files, ids } = await allRecords(base);
    // 60 records per step: a file is finished after the step that takes it to 100 or more.
    expect(files.map((file) => file.slice(file.lastIndexOf('/') + 1))).toEqual([
      'raw+0+00000000000000000000-0+00000000000000000003-29.ndjson.gz',
      'raw+0+00000000000000000004-0+00000000000000000007-29.ndjson.gz',
      'raw+0+00000000000000000008-0+00000000000000000009-29.ndjson.gz',
    ]);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
  });

  it('recovers what a crash leaves: an append past the committed length, a create never renamed, a file in a directory not written again', async () => {
    const base = `/it${++run}-recovery`;
    const path = `${base}/{service.name}`;
    // Never finishes files by itself, so nothing but the next owner's recovery touches them.
    const first = sink({ path, roll: { interval: '1h', idle_timeout: '1h' } });
    await first.start();
    const step1 = frames({ firstOffset: 0, frames: 5, perFrame: 20 });
    const step2 = frames({ firstOffset: 5, frames: 5, perFrame: 20 });
    const other = frames({ firstOffset: 3, frames: 2, perFrame: 10, record: () => ({ resource: { 'service.name': 'other' } }) });
    await first.write(step1);
    await first.write([...step2.slice(0, 20), ...other]);
    await first.write(step2.slice(20));
    // The crash: an append reached the datanode but the collector died before the rename (it is "uncommitted").
    const [temp] = (await listFiles(reader, `${base}/api/_tmp`)).map((file) => file.path);
    if (temp === undefined) throw new Error('no temp file');
    await reader.append(temp, Buffer.from('half a member that was never acknowledged'));
    // And a create that never got its committed name (named as before event indices: old names are still read).
    await reader.create(`${base}/api/_tmp/raw+0+00000000000000000099+00000000000000000099+0.ndjson.gz`, Buffer.from('partial'), { overwrite: false });
    // The first sink is abandoned without stop(), like a SIGKILLed process.

    const second = sink({ path });
    await second.start();
    // The uncommitted step 2 is replayed, then step 3; nothing for "other" is ever written again.
    const step3 = frames({ firstOffset: 10, frames: 5, perFrame: 20 });
    await second.write(step2);
    await second.write(step3);
    await second.stop();

    const { files, ids, hidden } = await allRecords(base);
    expect(hidden).toEqual([]);
    expect(ids.sort()).toEqual([...step1, ...step2, ...step3, ...other].map((record) => record.record.id).sort());
    expect(files.map((file) => file.slice(base.length))).toEqual([
      '/api/raw+0+00000000000000000000-0+00000000000000000009-19.ndjson.gz',
      '/api/raw+0+00000000000000000010-0+00000000000000000014-19.ndjson.gz',
      '/other/raw+0+00000000000000000003-0+00000000000000000004-9.ndjson.gz',
    ]);
  });

  it('keeps every record inside the base path whatever its attribute values, in directories readers see', async () => {
    const base = `/it${++run}-traversal`;
    const hostile = ['../../../escaped', '..', '.', '/etc/passwd', '_hidden', '.dot', 'a/../../b', 'x:y', '%2e%2e', ''];
    const hdfs = sink({ path: `${base}/logs/{service.name}/{attributes.tenant}` });
    await hdfs.start();
    const records = frames({
      firstOffset: 0,
      frames: hostile.length,
      perFrame: 2,
      record: (offset, index) => ({ resource: { 'service.name': hostile[offset] as string }, attributes: { tenant: index === 0 ? '..' : 't/../..' } }),
    });
    await hdfs.write(records);
    await hdfs.stop();
    const everything = await listFiles(reader, '/');
    const outside = everything.filter((file) => !file.path.startsWith(`${base}/logs/`) && file.path.startsWith(`/it${run}`));
    expect(outside).toEqual([]);
    const { files, ids, hidden } = await allRecords(base);
    expect(hidden).toEqual([]);
    expect(ids.sort()).toEqual(idsOf(records).sort());
    const dirs = new Set(files.map((file) => file.slice(`${base}/logs/`.length, file.lastIndexOf('/'))));
    expect([...dirs].sort()).toEqual(
      ['%2E%2E%2F..%2F..%2Fescaped', '%2E%2E', '%2E', '%2Fetc%2Fpasswd', '%5Fhidden', '%2Edot', 'a%2F..%2F..%2Fb', 'x%3Ay', '%252e%252e', 'unknown']
        .flatMap((service) => [`${service}/%2E%2E`, `${service}/t%2F..%2F..`])
        .sort(),
    );
  });
});
