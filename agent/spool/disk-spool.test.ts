import { appendFile, lstat, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../shared/errors.js';
import { DiskSpool, type DiskSpoolOptions, type SpoolDrop, type SpoolEntry, type SpooledEntry } from './disk-spool.js';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, decodeRecordHeader, encodeRecord, stampRecord, type RecordHeader } from './spool-format.js';

const directories: string[] = [];

afterEach(async () => {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-spool-'));
  directories.push(dir);
  return dir;
}

/** Entry `index` carries its index in the value and 1–5 events, so order and event sums are checkable. */
function entry(index: number, valueBytes = 64): SpoolEntry {
  const label = Buffer.from(`#${index}:`);
  return {
    key: `target-${index % 3}`,
    value: Buffer.concat([label, Buffer.alloc(Math.max(0, valueBytes - label.length), index % 251)]),
    headers: { 'tributary.schema': 'raw.metric.v1', 'tributary.event-count': String(eventsOf(index)) },
    eventCount: eventsOf(index),
  };
}

function eventsOf(index: number): number {
  return (index % 5) + 1;
}

function sumEvents(indexes: Iterable<number>): number {
  let sum = 0;
  for (const index of indexes) sum += eventsOf(index);
  return sum;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, offset) => from + offset);
}

function indexOf(spooled: SpooledEntry): number {
  const match = /^#(\d+):/.exec(spooled.value.toString('latin1'));
  if (!match?.[1]) throw new Error(`not a test entry: ${spooled.value.toString('latin1', 0, 16)}`);
  return Number(match[1]);
}

async function openSpool(dir: string, options: Partial<DiskSpoolOptions> = {}): Promise<{ spool: DiskSpool; drops: SpoolDrop[] }> {
  const drops: SpoolDrop[] = [];
  const spool = await DiskSpool.open({ dir, maxBytes: 1024 * 1024, segmentBytes: 1024, fsync: false, onDrop: (drop) => drops.push(drop), ...options });
  return { spool, drops };
}

async function appendAll(spool: DiskSpool, indexes: number[], valueBytes?: number): Promise<void> {
  for (const index of indexes) await spool.append(entry(index, valueBytes));
}

/** Reads until the spool has nothing more, acknowledging each batch when asked to. */
async function drain(spool: DiskSpool, options: { acknowledge?: boolean; maxEntries?: number } = {}): Promise<number[]> {
  const seen: number[] = [];
  for (;;) {
    const batch = await spool.read({ maxEntries: options.maxEntries ?? 7, maxBytes: 1024 * 1024 });
    const last = batch.at(-1);
    if (last === undefined) return seen;
    seen.push(...batch.map(indexOf));
    if (options.acknowledge ?? true) await spool.acknowledge(last.position);
  }
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .map((name) => join(dir, name));
}

/** The records of a segment file as written: where each starts and its header. */
async function recordsIn(file: string): Promise<{ offset: number; header: RecordHeader }[]> {
  const bytes = await readFile(file);
  const records: { offset: number; header: RecordHeader }[] = [];
  for (let offset = SEGMENT_HEADER_BYTES; offset < bytes.length;) {
    const header = decodeRecordHeader(bytes, offset);
    if (!header) throw new Error(`no record header at ${offset} of ${file}`);
    records.push({ offset, header });
    offset += RECORD_HEADER_BYTES + header.payloadBytes;
  }
  return records;
}

async function patchFile(file: string, offset: number, patch: Buffer): Promise<void> {
  const bytes = await readFile(file);
  patch.copy(bytes, offset);
  await writeFile(file, bytes);
}

/** Where record `seq` is, across all segment files. */
async function locate(dir: string, seq: number): Promise<{ file: string; offset: number; header: RecordHeader }> {
  for (const file of await segmentFiles(dir)) {
    const found = (await recordsIn(file)).find((record) => record.header.seq === seq);
    if (found) return { file, ...found };
  }
  throw new Error(`record ${seq} not found`);
}

function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(what);
  return value;
}

function recordBytes(index: number, valueBytes?: number): number {
  return encodeRecord(entry(index, valueBytes)).length;
}

describe('DiskSpool', () => {
  it('starts empty and says when there is something to read', async () => {
    const dir = await tempDir();
    const { spool, drops } = await openSpool(dir);
    expect(spool.stats).toEqual({ bytes: 0, entries: 0, events: 0, segments: 0 });
    expect(await spool.read({ maxEntries: 10, maxBytes: 1024 })).toEqual([]);
    expect(await spool.waitForData(AbortSignal.abort())).toBe(false);

    const ready = spool.waitForData();
    await spool.append(entry(0));
    expect(await ready).toBe(true);
    const [only] = await spool.read({ maxEntries: 10, maxBytes: 1024 });
    expect(only).toMatchObject({ key: 'target-0', headers: entry(0).headers, eventCount: 1, value: entry(0).value });
    expect(await spool.read({ maxEntries: 10, maxBytes: 1024 })).toEqual([]);

    const aborted = new AbortController();
    const waiting = spool.waitForData(aborted.signal);
    aborted.abort();
    expect(await waiting).toBe(false);
    await spool.close();
    expect(drops).toEqual([]);
  });

  it('reads back in append order across many segments and deletes what was acknowledged', async () => {
    const dir = await tempDir();
    const { spool, drops } = await openSpool(dir, { segmentBytes: 1024 });
    await appendAll(spool, range(0, 300));
    expect(spool.stats).toMatchObject({ entries: 300, events: sumEvents(range(0, 300)) });
    expect(spool.stats.segments).toBeGreaterThan(25);
    expect(spool.stats.bytes).toBe((await Promise.all((await segmentFiles(dir)).map(async (file) => (await stat(file)).size))).reduce((a, b) => a + b));

    expect(await drain(spool)).toEqual(range(0, 300));
    expect(spool.stats).toMatchObject({ entries: 0, events: 0, segments: 1 });
    expect((await readdir(dir)).sort()).toEqual([expect.stringMatching(/^\d{20}\.seg$/), 'cursor.json']);
    await spool.close();
    expect(drops).toEqual([]);
  });

  it('stops a read at maxBytes of payload, but always returns at least one entry', async () => {
    const dir = await tempDir();
    const { spool } = await openSpool(dir, { segmentBytes: 64 * 1024 });
    await appendAll(spool, range(0, 10), 100);
    const payloadBytes = recordBytes(0, 100) - RECORD_HEADER_BYTES;
    expect((await spool.read({ maxEntries: 100, maxBytes: 1 })).map(indexOf)).toEqual([0]);
    expect((await spool.read({ maxEntries: 100, maxBytes: 3 * payloadBytes })).map(indexOf)).toEqual([1, 2, 3]);
    expect((await spool.read({ maxEntries: 2, maxBytes: 1024 * 1024 })).map(indexOf)).toEqual([4, 5]);
    await spool.close();
  });

  it('resumes after the acknowledged cursor when reopened', async () => {
    const dir = await tempDir();
    const first = await openSpool(dir);
    await appendAll(first.spool, range(0, 50));
    const delivered = await first.spool.read({ maxEntries: 20, maxBytes: 1024 * 1024 });
    await first.spool.acknowledge(defined(delivered.at(-1), 'nothing read').position);
    // Handed out but never acknowledged: sent again after the restart.
    expect((await first.spool.read({ maxEntries: 10, maxBytes: 1024 * 1024 })).map(indexOf)).toEqual(range(20, 30));
    await first.spool.close();

    const second = await openSpool(dir);
    expect(second.spool.stats).toMatchObject({ entries: 30, events: sumEvents(range(20, 50)) });
    await appendAll(second.spool, range(50, 60));
    expect(await drain(second.spool)).toEqual(range(20, 60));
    await second.spool.close();

    const third = await openSpool(dir);
    expect(third.spool.stats).toMatchObject({ entries: 0, events: 0 });
    expect(await drain(third.spool)).toEqual([]);
    await third.spool.close();
    expect([...first.drops, ...second.drops, ...third.drops]).toEqual([]);
  });

  it('13.19: the cursor is never written through a symlink planted at its old fixed temp name', async () => {
    const dir = await tempDir();
    const victim = join(await tempDir(), 'victim');
    await writeFile(victim, 'precious');
    const { spool } = await openSpool(dir);
    await symlink(victim, join(dir, 'cursor.json.tmp'));
    await appendAll(spool, range(0, 5));
    const delivered = await spool.read({ maxEntries: 5, maxBytes: 1024 * 1024 });
    await spool.acknowledge(defined(delivered.at(-1), 'nothing read').position);
    await spool.close();
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(join(dir, 'cursor.json'))).isFile()).toBe(true);
    // Reopening removes the planted link (not its target) and resumes after the acknowledged entries.
    const reopened = await openSpool(dir);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(await drain(reopened.spool)).toEqual([]);
    await reopened.spool.close();
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it('rewind re-delivers exactly the unacknowledged entries', async () => {
    const dir = await tempDir();
    const { spool } = await openSpool(dir);
    await appendAll(spool, range(0, 20));
    const acknowledged = await spool.read({ maxEntries: 5, maxBytes: 1024 * 1024 });
    await spool.acknowledge(defined(acknowledged.at(-1), 'nothing read').position);
    expect((await spool.read({ maxEntries: 10, maxBytes: 1024 * 1024 })).map(indexOf)).toEqual(range(5, 15));
    spool.rewind();
    expect(await drain(spool, { acknowledge: false })).toEqual(range(5, 20));
    spool.rewind();
    expect(await drain(spool)).toEqual(range(5, 20));
    await spool.close();
  });

  it('keeps append order when reads are issued between appends', async () => {
    const dir = await tempDir();
    const { spool } = await openSpool(dir, { segmentBytes: 2048 });
    const appends: Promise<void>[] = [];
    const reads: Promise<SpooledEntry[]>[] = [];
    for (const index of range(0, 500)) {
      appends.push(spool.append(entry(index)));
      if (index % 7 === 0) reads.push(spool.read({ maxEntries: 3, maxBytes: 1024 * 1024 }));
      if (index % 31 === 0) await appends.at(-1);
    }
    await Promise.all(appends);
    // Each read takes up where the one before it stopped, whatever was appended in between.
    const handedOut = (await Promise.all(reads)).flat().map(indexOf);
    expect(handedOut.length).toBeGreaterThan(100);
    expect([...handedOut, ...(await drain(spool, { acknowledge: false }))]).toEqual(range(0, 500));
    await spool.close();
  });

  it('feeds a reader waiting for data while appends arrive', async () => {
    const dir = await tempDir();
    const { spool } = await openSpool(dir, { segmentBytes: 2048 });
    const consumer = (async () => {
      const seen: number[] = [];
      while (seen.length < 500 && (await spool.waitForData())) {
        const batch = await spool.read({ maxEntries: 9, maxBytes: 1024 * 1024 });
        seen.push(...batch.map(indexOf));
        const last = batch.at(-1);
        if (last) await spool.acknowledge(last.position);
      }
      return seen;
    })();
    for (const index of range(0, 500)) {
      const appended = spool.append(entry(index));
      if (index % 13 === 0) await appended;
    }
    expect(await consumer).toEqual(range(0, 500));
    expect(spool.stats).toMatchObject({ entries: 0, events: 0 });
    await spool.close();
  });

  it('makes concurrent appends durable with one sync per group', async () => {
    const dir = await tempDir();
    const first = await openSpool(dir, { fsync: true, segmentBytes: 8 * 1024 });
    await Promise.all(range(0, 200).map((index) => first.spool.append(entry(index))));
    await first.spool.close();
    const second = await openSpool(dir, { fsync: true, segmentBytes: 8 * 1024 });
    expect(await drain(second.spool)).toEqual(range(0, 200));
    await second.spool.close();
  });

  describe('after a crash', () => {
    async function crashWithTail(tail: (next: Buffer) => Buffer): Promise<{ dir: string; file: string; sizeBefore: number }> {
      const dir = await tempDir();
      const { spool } = await openSpool(dir, { fsync: true });
      await appendAll(spool, range(0, 10));
      await spool.close();
      const file = defined((await segmentFiles(dir)).at(-1), 'no segment');
      const sizeBefore = (await stat(file)).size;
      // The record the crashed append was writing: the next one in the stream, cut or damaged by hand.
      const next = encodeRecord(entry(10));
      stampRecord(next, { seq: 10, events: sumEvents(range(0, 10)) });
      await appendFile(file, tail(next));
      return { dir, file, sizeBefore };
    }

    it.each([
      ['a torn header', (next: Buffer) => next.subarray(0, 13)],
      ['a header without all of its payload', (next: Buffer) => next.subarray(0, RECORD_HEADER_BYTES + 20)],
      [
        'a full-length record whose payload never reached the disk',
        (next: Buffer) => Buffer.concat([next.subarray(0, RECORD_HEADER_BYTES), Buffer.alloc(next.length - RECORD_HEADER_BYTES)]),
      ],
      ['zeros the file system left', (next: Buffer) => Buffer.alloc(next.length)],
    ])('discards %s at the tail without counting it, keeping every earlier entry', async (_, tail) => {
      const { dir, file, sizeBefore } = await crashWithTail(tail);
      const { spool, drops } = await openSpool(dir, { fsync: true });
      expect(drops).toEqual([]);
      expect((await stat(file)).size).toBe(sizeBefore);
      expect(spool.stats).toMatchObject({ entries: 10, events: sumEvents(range(0, 10)) });
      await spool.append(entry(10));
      expect(await drain(spool)).toEqual(range(0, 11));
      await spool.close();
    });

    it('finds what was appended without close after a restart', async () => {
      const dir = await tempDir();
      const crashed = await openSpool(dir, { fsync: true });
      await appendAll(crashed.spool, range(0, 25));
      const delivered = await crashed.spool.read({ maxEntries: 10, maxBytes: 1024 * 1024 });
      await crashed.spool.acknowledge(defined(delivered.at(-1), 'nothing read').position);
      // No close: the files are left as a SIGKILL would leave them.
      const restarted = await openSpool(dir, { fsync: true });
      expect(await drain(restarted.spool)).toEqual(range(10, 25));
      await restarted.spool.close();
      await crashed.spool.close();
    });
  });

  describe('damage', () => {
    it('drops a record whose payload fails its checksum when it is read, counted exactly and once', async () => {
      const dir = await tempDir();
      const first = await openSpool(dir, { segmentBytes: 64 * 1024 });
      await appendAll(first.spool, range(0, 30));
      await first.spool.close();
      const damaged = await locate(dir, 12);
      await patchFile(damaged.file, damaged.offset + RECORD_HEADER_BYTES + damaged.header.payloadBytes - 3, Buffer.from('XYZ'));

      const { spool, drops } = await openSpool(dir, { segmentBytes: 64 * 1024 });
      expect(await drain(spool, { acknowledge: false })).toEqual(range(0, 30).filter((index) => index !== 12));
      expect(drops).toEqual([{ entries: 1, events: eventsOf(12), bytes: RECORD_HEADER_BYTES + damaged.header.payloadBytes, reason: 'corrupt' }]);
      expect(spool.stats).toMatchObject({ entries: 29, events: sumEvents(range(0, 30)) - eventsOf(12) });
      spool.rewind();
      expect(await drain(spool)).toEqual(range(0, 30).filter((index) => index !== 12));
      expect(drops).toHaveLength(1);
      await spool.close();
    });

    it('skips a damaged record header to the next intact record when opening', async () => {
      const dir = await tempDir();
      const first = await openSpool(dir, { segmentBytes: 64 * 1024 });
      await appendAll(first.spool, range(0, 30));
      await first.spool.close();
      const damaged = await locate(dir, 12);
      await patchFile(damaged.file, damaged.offset + 9, Buffer.from([0xff]));

      const { spool, drops } = await openSpool(dir, { segmentBytes: 64 * 1024 });
      expect(drops).toEqual([{ entries: 1, events: eventsOf(12), bytes: RECORD_HEADER_BYTES + damaged.header.payloadBytes, reason: 'corrupt' }]);
      expect(spool.stats).toMatchObject({ entries: 29, events: sumEvents(range(0, 30)) - eventsOf(12) });
      expect(await drain(spool)).toEqual(range(0, 30).filter((index) => index !== 12));
      expect(drops).toHaveLength(1);
      await spool.close();
    });

    it('counts a run of overwritten records in the middle exactly', async () => {
      const dir = await tempDir();
      const first = await openSpool(dir, { segmentBytes: 64 * 1024 });
      await appendAll(first.spool, range(0, 30));
      await first.spool.close();
      const from = await locate(dir, 12);
      const to = await locate(dir, 15);
      // Garbage from inside record 12 to inside record 14: records 12, 13 and 14 are lost, 15 is intact.
      const garbage = Buffer.alloc(to.offset - from.offset - 10);
      for (let index = 0; index < garbage.length; index++) garbage[index] = (index * 131 + 7) % 256;
      await patchFile(from.file, from.offset + 5, garbage);

      const { spool, drops } = await openSpool(dir, { segmentBytes: 64 * 1024 });
      expect(drops).toEqual([{ entries: 3, events: sumEvents([12, 13, 14]), bytes: to.offset - from.offset, reason: 'corrupt' }]);
      expect(await drain(spool)).toEqual(range(0, 30).filter((index) => index < 12 || index > 14));
      await spool.close();
    });

    it('counts damage at the end of a sealed segment from where the next segment starts', async () => {
      const dir = await tempDir();
      const first = await openSpool(dir, { segmentBytes: 1024 });
      await appendAll(first.spool, range(0, 40));
      await first.spool.close();
      const firstSegment = defined((await segmentFiles(dir))[0], 'no segment');
      const records = await recordsIn(firstSegment);
      const lost = records.slice(-2);
      const lostFrom = defined(lost[0], 'segment too small');
      await patchFile(firstSegment, lostFrom.offset, Buffer.alloc(RECORD_HEADER_BYTES * 2 + lostFrom.header.payloadBytes, 0xee));

      const { spool, drops } = await openSpool(dir, { segmentBytes: 1024 });
      const lostIndexes = lost.map((record) => record.header.seq);
      const segmentSize = (await stat(firstSegment)).size;
      expect(drops).toEqual([{ entries: 2, events: sumEvents(lostIndexes), bytes: segmentSize - lostFrom.offset, reason: 'corrupt' }]);
      expect(await drain(spool)).toEqual(range(0, 40).filter((index) => !lostIndexes.includes(index)));
      await spool.close();
    });

    it('refuses a damaged cursor rather than guessing where delivery got', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'cursor.json'), '{"version":1,"segment":');
      await expect(openSpool(dir)).rejects.toThrow(/cursor\.json is damaged; move it away/);
      await expect(openSpool(dir)).rejects.toMatchObject({ code: 'CONFIG_UNREADABLE' });
    });
  });

  describe('size cap', () => {
    const maxBytes = 4096;
    const segmentBytes = 1024;

    it('drops the oldest entries past the cap, counts them exactly, and keeps the newest in order', async () => {
      const dir = await tempDir();
      const { spool, drops } = await openSpool(dir, { maxBytes, segmentBytes });
      for (const index of range(0, 200)) {
        await spool.append(entry(index));
        expect(spool.stats.bytes).toBeLessThanOrEqual(maxBytes);
      }
      const dropped = drops.reduce((sum, drop) => ({ entries: sum.entries + drop.entries, events: sum.events + drop.events }), { entries: 0, events: 0 });
      expect(drops.every((drop) => drop.reason === 'size_cap')).toBe(true);
      expect(dropped.entries + spool.stats.entries).toBe(200);
      const survivors = await drain(spool);
      expect(survivors).toEqual(range(200 - survivors.length, 200));
      expect(survivors.length).toBeGreaterThanOrEqual(15);
      expect(dropped.entries).toBe(200 - survivors.length);
      expect(dropped.events).toBe(sumEvents(range(0, 200 - survivors.length)));
      await spool.close();
    });

    it('counts entries in flight when their segment is dropped only if they are not acknowledged', async () => {
      for (const outcome of ['delivered', 'failed'] as const) {
        const dir = await tempDir();
        const { spool, drops } = await openSpool(dir, { maxBytes, segmentBytes });
        await appendAll(spool, range(0, 5));
        const inFlight = await spool.read({ maxEntries: 5, maxBytes: 1024 * 1024 });
        expect(inFlight.map(indexOf)).toEqual(range(0, 5));
        await appendAll(spool, range(5, 200));
        expect(spool.stats.entries).toBeLessThan(195);

        const last = defined(inFlight.at(-1), 'nothing read');
        const statsBefore = spool.stats;
        if (outcome === 'delivered') {
          // A position in a segment that no longer exists: harmless, and it says the five were delivered.
          await spool.acknowledge(last.position);
          expect(spool.stats).toEqual(statsBefore);
        } else {
          spool.rewind();
        }
        const sent = [...(outcome === 'delivered' ? range(0, 5) : []), ...(await drain(spool))];
        const droppedEvents = drops.reduce((sum, drop) => sum + drop.events, 0);
        const droppedEntries = drops.reduce((sum, drop) => sum + drop.entries, 0);
        expect(sent.length + droppedEntries).toBe(200);
        expect(sumEvents(sent) + droppedEvents).toBe(sumEvents(range(0, 200)));
        expect(sent.slice(outcome === 'delivered' ? 5 : 0)).toEqual(range(200 - (sent.length - (outcome === 'delivered' ? 5 : 0)), 200));
        await spool.close();
      }
    });

    it('reports in-flight entries dropped and never acknowledged when it closes', async () => {
      const dir = await tempDir();
      const { spool, drops } = await openSpool(dir, { maxBytes, segmentBytes });
      await appendAll(spool, range(0, 5));
      await spool.read({ maxEntries: 5, maxBytes: 1024 * 1024 });
      await appendAll(spool, range(5, 200));
      await spool.close();
      const reopened = await openSpool(dir, { maxBytes, segmentBytes });
      const left = reopened.spool.stats.entries;
      expect(drops.reduce((sum, drop) => sum + drop.entries, 0) + left).toBe(200);
      expect(drops.reduce((sum, drop) => sum + drop.events, 0) + reopened.spool.stats.events).toBe(sumEvents(range(0, 200)));
      await reopened.spool.close();
    });

    it('rejects an entry that could never fit, and changes nothing', async () => {
      const dir = await tempDir();
      const { spool, drops } = await openSpool(dir, { maxBytes, segmentBytes });
      await appendAll(spool, range(0, 3));
      const before = spool.stats;
      await expect(spool.append(entry(3, maxBytes))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
      expect(spool.stats).toEqual(before);
      expect(drops).toEqual([]);
      // One larger than a segment still fits alone in its own.
      await spool.append(entry(4, 2 * segmentBytes));
      expect(await drain(spool)).toEqual([0, 1, 2, 4]);
      await spool.close();
    });
  });

  it.each([1, 2, 3, 4])('accounts for every appended event exactly once under random operations (seed %i)', async (seed) => {
    const dir = await tempDir();
    let state = seed * 2654435761;
    const random = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const options = { maxBytes: 8 * 1024, segmentBytes: 1024, fsync: false };
    const drops: SpoolDrop[] = [];
    let spool = await DiskSpool.open({ dir, ...options, onDrop: (drop) => drops.push(drop) });
    const appended: number[] = [];
    const delivered = new Set<number>();
    let outstanding: SpooledEntry[][] = [];
    let lastHandedOut = -1;

    const check = (): void => {
      const dropped = drops.reduce((sum, drop) => ({ entries: sum.entries + drop.entries, events: sum.events + drop.events }), { entries: 0, events: 0 });
      expect(delivered.size + dropped.entries + spool.stats.entries).toBe(appended.length);
      expect(sumEvents(delivered) + dropped.events + spool.stats.events).toBe(sumEvents(appended));
      expect(spool.stats.bytes).toBeLessThanOrEqual(options.maxBytes);
    };

    for (let step = 0; step < 1500; step++) {
      const roll = random();
      if (roll < 0.5) {
        const index = appended.length;
        await spool.append(entry(index, 10 + Math.floor(random() * 400)));
        appended.push(index);
      } else if (roll < 0.72) {
        const batch = await spool.read({ maxEntries: 1 + Math.floor(random() * 8), maxBytes: 1024 * 1024 });
        for (const index of batch.map(indexOf)) {
          expect(index).toBeGreaterThan(lastHandedOut);
          expect(delivered.has(index)).toBe(false);
          lastHandedOut = index;
        }
        if (batch.length > 0) outstanding.push(batch);
      } else if (roll < 0.9) {
        // Usually the newest batch; sometimes an older one, as a sender with several requests in flight would.
        const upTo = random() < 0.7 ? outstanding.length - 1 : Math.floor(random() * outstanding.length);
        const batch = outstanding[upTo];
        if (batch === undefined) continue;
        await spool.acknowledge(defined(batch.at(-1), 'empty batch').position);
        for (const acknowledged of outstanding.slice(0, upTo + 1)) for (const index of acknowledged.map(indexOf)) delivered.add(index);
        outstanding = outstanding.slice(upTo + 1);
      } else if (roll < 0.97) {
        spool.rewind();
        outstanding = [];
        lastHandedOut = Math.max(-1, ...delivered);
        await spool.read({ maxEntries: 0, maxBytes: 0 });
        check();
      } else {
        await spool.close();
        spool = await DiskSpool.open({ dir, ...options, onDrop: (drop) => drops.push(drop) });
        outstanding = [];
        lastHandedOut = Math.max(-1, ...delivered);
        check();
      }
    }
    spool.rewind();
    for (const index of await drain(spool)) {
      expect(delivered.has(index)).toBe(false);
      delivered.add(index);
    }
    check();
    expect(spool.stats.entries).toBe(0);
    expect(drops.some((drop) => drop.reason === 'size_cap')).toBe(true);
    expect(drops.every((drop) => drop.reason === 'size_cap')).toBe(true);
    await spool.close();
  });

  it('rejects work after close, and an acknowledgement of what was never handed out', async () => {
    const dir = await tempDir();
    const { spool } = await openSpool(dir);
    await appendAll(spool, range(0, 3));
    const [first] = await spool.read({ maxEntries: 1, maxBytes: 1024 });
    const notHandedOut = { ...defined(first, 'nothing read').position, seq: 3 };
    await expect(spool.acknowledge(notHandedOut)).rejects.toBeInstanceOf(TributaryError);
    await Promise.all([spool.close(), spool.close()]);
    await expect(spool.append(entry(3))).rejects.toMatchObject({ code: 'SHUTDOWN' });
    await expect(spool.read({ maxEntries: 1, maxBytes: 1024 })).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(await spool.waitForData()).toBe(false);
  });

  it('rejects options that cannot work', async () => {
    const dir = await tempDir();
    await expect(openSpool(dir, { segmentBytes: 10 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(openSpool(dir, { maxBytes: 512, segmentBytes: 1024 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
