import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingRecord } from '../../../shared/pipeline/record-sink.js';
import type { LogRecord } from '../../../shared/record/log-record.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { PipelineMetrics } from '../../../shared/telemetry/metrics.js';
import { hdfsOutputSchema } from './config.js';
import { FakeWebHdfs } from './fake-webhdfs.js';
import { HdfsSink } from './hdfs-sink.js';

function records(firstOffset: number, frames: number, perFrame: number, partition = 0): OutgoingRecord[] {
  const out: OutgoingRecord[] = [];
  for (let frame = 0; frame < frames; frame++) {
    for (let index = 0; index < perFrame; index++) {
      const offset = firstOffset + frame;
      const record: LogRecord = {
        schema: 'tributary.log.v1',
        id: `${partition}-${offset}-${index}`,
        timestamp: '2026-11-23T09:00:00.000Z',
        observed_timestamp: '2026-11-23T09:00:00.000Z',
        severity_number: 9,
        body: `b${index}`,
        attributes: {},
        resource: { 'service.name': 'api' },
      };
      out.push({ record, json: JSON.stringify(record), key: 'k', origin: { topic: 'raw', partition, offset: String(offset), event: index } });
    }
  }
  return out;
}

function ids(fake: FakeWebHdfs, prefix: string): string[] {
  return fake
    .paths(prefix)
    .filter((path) => !path.includes('/_'))
    .flatMap((path) =>
      gunzipSync(fake.files.get(path) ?? Buffer.alloc(0))
        .toString()
        .split('\n')
        .filter((line) => line !== ''),
    )
    .map((line) => (JSON.parse(line) as LogRecord).id);
}

describe('HdfsSink (fake WebHDFS)', () => {
  let active: FakeWebHdfs;
  let standby: FakeWebHdfs;
  const sinks: HdfsSink[] = [];

  beforeEach(async () => {
    active = new FakeWebHdfs();
    standby = new FakeWebHdfs();
    standby.standby = true;
    await active.start();
    await standby.start();
  });

  afterEach(async () => {
    for (const sink of sinks.splice(0)) await sink.stop();
    await active.stop();
    await standby.stop();
  });

  function sink(config: Record<string, unknown> = {}): { sink: HdfsSink; metrics: PipelineMetrics } {
    const parsed = hdfsOutputSchema.parse({
      type: 'hdfs',
      // The standby first: every request must fail over to the active one.
      namenodes: [standby.url, active.url],
      path: '/data/{service.name}',
      auth: { user: 'alice' },
      retry: { initial_backoff: 1, max_backoff: 1 },
      ...config,
    });
    const metrics = new PipelineMetrics('collector');
    const created = new HdfsSink('lake', parsed, metrics.component({ component_id: 'lake', component_type: 'hdfs', component_kind: 'sink' }), silentLogger());
    sinks.push(created);
    return { sink: created, metrics };
  }

  it('fails over from a standby namenode and sends user.name on every request, datanode included', async () => {
    const { sink: hdfs } = sink();
    await hdfs.start();
    await hdfs.write(records(0, 2, 3));
    expect(active.requests.some((request) => request.datanode && request.op === 'CREATE')).toBe(true);
    expect(active.requests.every((request) => request.user === 'alice')).toBe(true);
    expect(standby.requests.length).toBeGreaterThan(0);
    // Once the active one answered, requests go there first.
    const standbyCount = standby.requests.length;
    await hdfs.write(records(2, 1, 3));
    expect(standby.requests.length).toBe(standbyCount);
  });

  it('sends a delegation token instead of user.name when one is configured', async () => {
    const { sink: hdfs } = sink({ auth: { delegation_token: 'TOKEN123' } });
    await hdfs.start();
    await hdfs.write(records(0, 1, 1));
    expect(active.requests.every((request) => request.delegation === 'TOKEN123' && request.user === null)).toBe(true);
  });

  it('appends one member per write and renames so the name records the committed length', async () => {
    const { sink: hdfs } = sink();
    await hdfs.start();
    await hdfs.write(records(0, 2, 5));
    await hdfs.write(records(2, 2, 5));
    const [temp] = active.paths('/data/api/_tmp/');
    expect(temp).toMatch(/\/raw\+0\+0{20}-0\+0{19}3-4\+(\d+)\.ndjson\.gz$/);
    expect(Number(/\+(\d+)\.ndjson\.gz$/.exec(temp ?? '')?.[1])).toBe(active.files.get(temp ?? '')?.length);
    await hdfs.stop();
    expect(active.paths('/data/api/')).toEqual(['/data/api/raw+0+00000000000000000000-0+00000000000000000003-4.ndjson.gz']);
    expect(ids(active, '/data/')).toHaveLength(20);
    expect(active.paths('/data/_tributary/')).toEqual([]);
  });

  it('retries a datanode failure mid-append: the partial bytes are cut off and every record lands once', async () => {
    const { sink: hdfs, metrics } = sink();
    await hdfs.start();
    await hdfs.write(records(0, 1, 10));
    active.breakNextAppendAfter = 7;
    await hdfs.write(records(1, 1, 10));
    await hdfs.stop();
    expect(ids(active, '/data/').sort()).toEqual(
      records(0, 2, 10)
        .map((record) => record.record.id)
        .sort(),
    );
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/tributary_component_errors_total\{[^}]*component_id="lake"[^}]*reason="sink_unavailable"[^}]*\} [1-9]/);
  });

  it('skips records a replay brings again, by their frame offsets', async () => {
    const first = sink().sink;
    await first.start();
    await first.write(records(0, 3, 4));
    // A new owner (after a crash of the first) gets the same step again and the next one.
    const second = sink().sink;
    await second.start();
    await second.write(records(0, 3, 4));
    await second.write(records(3, 2, 4));
    await second.stop();
    expect(ids(active, '/data/').sort()).toEqual(
      records(0, 5, 4)
        .map((record) => record.record.id)
        .sort(),
    );
    expect(active.paths('/data/api/')).toEqual([
      '/data/api/raw+0+00000000000000000000-0+00000000000000000002-3.ndjson.gz',
      '/data/api/raw+0+00000000000000000003-0+00000000000000000004-3.ndjson.gz',
    ]);
  });

  it('a frame delivered over several writes lands whole: records after the high-water event of a frame are not skipped', async () => {
    const { sink: hdfs, metrics } = sink();
    await hdfs.start();
    const frames = records(0, 3, 10);
    // A large frame decoded over several steps, and a batch written again in halves, reach the sink in parts.
    await hdfs.write(frames.slice(0, 4));
    await hdfs.write(frames.slice(4, 13));
    await hdfs.write(frames.slice(13));
    await hdfs.stop();
    expect(ids(active, '/data/').sort()).toEqual(frames.map((record) => record.record.id).sort());
    expect(active.paths('/data/api/')).toEqual(['/data/api/raw+0+00000000000000000000-0+00000000000000000002-9.ndjson.gz']);
    expect(await metrics.registry.metrics()).toMatch(/tributary_component_sent_events_total\{[^}]*component_id="lake"[^}]*\} 30\n/);
  });

  it('after a crash mid-frame, the replayed frame adds exactly the events the dead owner had not written', async () => {
    const first = sink().sink;
    await first.start();
    const frames = records(0, 2, 10);
    await first.write(frames.slice(0, 6));
    await first.write(frames.slice(6, 14));
    // The first owner dies with frame 1 half written (offset 0 was committed, offset 1 was not): the new owner
    // gets frame 1 again from its first event, split differently.
    const second = sink().sink;
    await second.start();
    await second.write(frames.slice(10, 17));
    await second.write(frames.slice(17));
    await second.stop();
    expect(ids(active, '/data/').sort()).toEqual(frames.map((record) => record.record.id).sort());
    expect(active.paths('/data/api/')).toEqual([
      '/data/api/raw+0+00000000000000000000-0+00000000000000000001-3.ndjson.gz',
      '/data/api/raw+0+00000000000000000001-4+00000000000000000001-9.ndjson.gz',
    ]);
  });

  it('reads files named before event indices as whole frames', async () => {
    const legacy = sink().sink;
    await legacy.start();
    await legacy.write(records(0, 2, 3));
    await legacy.stop();
    const [written] = active.paths('/data/api/');
    const oldName = (written ?? '').replace(/-\d+\+/, '+').replace(/-\d+\.ndjson/, '.ndjson');
    expect(oldName).toBe('/data/api/raw+0+00000000000000000000+00000000000000000001.ndjson.gz');
    active.files.set(oldName, active.files.get(written ?? '') ?? Buffer.alloc(0));
    active.files.delete(written ?? '');
    const next = sink().sink;
    await next.start();
    await next.write(records(0, 3, 3));
    await next.stop();
    expect(ids(active, '/data/').sort()).toEqual(
      records(0, 3, 3)
        .map((record) => record.record.id)
        .sort(),
    );
  });

  it('recovers an in-progress file named before event indices under its own name', async () => {
    const crashed = sink({ roll: { interval: '1h', idle_timeout: '1h' } }).sink;
    await crashed.start();
    await crashed.write(records(0, 2, 3));
    // Abandoned without stop(), like a SIGKILLed process of the previous version, whose names had no event indices.
    const [temp] = active.paths('/data/api/_tmp/');
    const oldName = (temp ?? '').replace(/-\d+\+/g, '+');
    expect(oldName).toMatch(/\/_tmp\/raw\+0\+0{20}\+0{19}1\+\d+\.ndjson\.gz$/);
    active.files.set(oldName, active.files.get(temp ?? '') ?? Buffer.alloc(0));
    active.files.delete(temp ?? '');
    const next = sink().sink;
    await next.start();
    await next.write(records(0, 3, 3));
    await next.stop();
    expect(ids(active, '/data/').sort()).toEqual(
      records(0, 3, 3)
        .map((record) => record.record.id)
        .sort(),
    );
    expect(active.paths('/data/api/')).toEqual([
      '/data/api/raw+0+00000000000000000000-0+00000000000000000001.ndjson.gz',
      '/data/api/raw+0+00000000000000000002-0+00000000000000000002-2.ndjson.gz',
    ]);
  });

  it('finishes idle files on its timer and rolls by size', async () => {
    const { sink: hdfs } = sink({ roll: { idle_timeout: '50ms', max_bytes: '1KiB' } });
    await hdfs.start();
    await hdfs.write(records(0, 1, 2));
    await vi.waitFor(() => expect(active.paths('/data/api/_tmp/')).toEqual([]), { timeout: 2_000, interval: 20 });
    expect(active.paths('/data/api/')).toEqual(['/data/api/raw+0+00000000000000000000-0+00000000000000000000-1.ndjson.gz']);
    // Big enough to pass 1 KiB compressed: finished by the write itself.
    const big = records(1, 1, 200).map((record) => ({ ...record, json: JSON.stringify({ ...record.record, body: Math.random().toString(36).repeat(20) }) }));
    await hdfs.write(big);
    expect(active.paths('/data/api/_tmp/')).toEqual([]);
  });
});
