import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../../shared/errors.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { logRecord } from '../../../test/helpers/records.js';
import { outgoing } from '../../../test/helpers/sinks.js';
import { fileOutputSchema } from './config.js';
import { FileSink, type FileSinkIo } from './file-sink.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-sink-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const batch = (from: number, count: number) =>
  Array.from({ length: count }, (_, n) => outgoing(logRecord({ id: String(from + n).padStart(32, '0'), body: `line ${from + n} ${'x'.repeat(40)}` })));

const linesOf = (text: string): string[] => text.split('\n').slice(0, -1);

/** Real writes, at most `chunk` bytes each; after `capacity` bytes in total the disk is full (a short write, then ENOSPC). */
function limitedDisk(options: { chunk?: number; capacity?: number }): FileSinkIo & { capacity: number; written: number } {
  const disk = {
    capacity: options.capacity ?? Number.POSITIVE_INFINITY,
    written: 0,
    async write(handle: FileHandle, data: Buffer, offset: number, length: number): Promise<number> {
      const room = disk.capacity - disk.written;
      if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const { bytesWritten } = await handle.write(data, offset, Math.min(length, options.chunk ?? length, room));
      disk.written += bytesWritten;
      return bytesWritten;
    },
    truncate: async (handle: FileHandle, length: number): Promise<void> => {
      const { size } = await handle.stat();
      await handle.truncate(length);
      disk.written -= size - length;
    },
  };
  return disk;
}

async function startSink(io?: FileSinkIo) {
  const path = join(dir, 'out', 'records.ndjson');
  const { families, metrics } = testComponentMetrics('sink');
  const sink = new FileSink('file', fileOutputSchema.parse({ type: 'file', path }), metrics, io ? { io } : {});
  await sink.start();
  return { sink, path, families };
}

describe('FileSink', () => {
  it('appends each record as one NDJSON line', async () => {
    const { sink, path, families } = await startSink();
    await sink.write(batch(0, 3));
    await sink.stop();
    const lines = linesOf(await readFile(path, 'utf8'));
    expect(lines.map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['0', '1', '2'].map((n) => n.padStart(32, '0')));
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(3);
  });

  it('13.12: short writes are continued until the whole batch is on disk', async () => {
    const { sink, path } = await startSink(limitedDisk({ chunk: 61 }));
    const records = batch(0, 80);
    await sink.write(records);
    await sink.stop();
    expect(await readFile(path, 'utf8')).toBe(records.map((record) => `${record.json}\n`).join(''));
  });

  it('13.12: a full disk fails the batch unacknowledged and cuts the file back to the last complete record; the retry writes it whole', async () => {
    const first = batch(0, 64);
    const firstBytes = Buffer.byteLength(first.map((record) => `${record.json}\n`).join(''));
    // Room for the first batch and 100 bytes more: the second batch is written in part, then ENOSPC.
    const disk = limitedDisk({ chunk: 4096, capacity: firstBytes + 100 });
    const { sink, path, families } = await startSink(disk);
    await sink.write(first);
    const second = batch(64, 16);
    const failure = await sink.write(second).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TributaryError);
    expect((failure as TributaryError).retriable).toBe(true);
    expect((failure as TributaryError).message).toMatch(/ENOSPC/);
    // Only what was acknowledged is on disk, and the file ends with a complete line.
    const afterFailure = await readFile(path, 'utf8');
    expect(afterFailure).toBe(first.map((record) => `${record.json}\n`).join(''));
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(64);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'io' })).toBe(1);
    // Space is freed; the retried batch lands whole after the last complete record.
    disk.capacity = Number.POSITIVE_INFINITY;
    await sink.write(second);
    await sink.stop();
    expect(await readFile(path, 'utf8')).toBe([...first, ...second].map((record) => `${record.json}\n`).join(''));
  });

  it('13.12: when cutting back fails too, the next batch cuts first', async () => {
    const disk = limitedDisk({ capacity: 50 });
    let refuseTruncate = true;
    const io: FileSinkIo = {
      write: (handle, data, offset, length) => disk.write(handle, data, offset, length),
      truncate: (handle, length) => (refuseTruncate ? Promise.reject(new Error('EIO')) : disk.truncate(handle, length)),
    };
    const { sink, path } = await startSink(io);
    await expect(sink.write(batch(0, 2))).rejects.toThrow(/ENOSPC/);
    expect((await readFile(path, 'utf8')).length).toBe(50);
    refuseTruncate = false;
    disk.capacity = Number.POSITIVE_INFINITY;
    const retried = batch(0, 2);
    await sink.write(retried);
    await sink.stop();
    expect(await readFile(path, 'utf8')).toBe(retried.map((record) => `${record.json}\n`).join(''));
  });

  it('13.12: a write that makes no progress fails instead of spinning', async () => {
    const io: FileSinkIo = { write: () => Promise.resolve(0), truncate: (handle, length) => handle.truncate(length) };
    const { sink } = await startSink(io);
    await expect(sink.write(batch(0, 1))).rejects.toThrow(/wrote 0 of/);
  });

  it('13.12: at start, a last line torn by a crash is cut so the next record starts a line of its own', async () => {
    const path = join(dir, 'out', 'records.ndjson');
    const { sink: first } = await startSink();
    await first.stop();
    await writeFile(path, '{"complete":1}\n{"torn":');
    const { sink } = await startSink();
    const records = batch(0, 1);
    await sink.write(records);
    await sink.stop();
    expect(await readFile(path, 'utf8')).toBe(`{"complete":1}\n${records[0]?.json ?? ''}\n`);
    await writeFile(path, 'x'.repeat(200_000));
    const { sink: again } = await startSink();
    await again.stop();
    expect(await readFile(path, 'utf8')).toBe('');
  });
});
