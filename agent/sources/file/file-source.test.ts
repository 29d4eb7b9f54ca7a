import { appendFileSync, truncateSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, open, rename, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { eventId } from '../../../shared/record/event-id.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import { fileSourceSchema } from './config.js';
import { fingerprintOfPath } from './file-identity.js';
import { FileSource } from './file-source.js';
import { AGENT, type Event, expectedEvents, HOST, idOf, lines, project, RecordingConsumer, SOURCE, waitFor } from './test-support/file-source-harness.js';

/**
 * Behaviour of the whole file source (discovery, tailers, rotation handling,
 * checkpoints, stages) on a real file system, with a fake consumer in place of
 * the framer and Kafka. Every wait is on a condition; fixed sleeps are used
 * only to show that nothing more arrives.
 */

const POLL_MS = 50;
const ROTATE_WAIT_MS = 300;

/** Long enough for several polls and rescans: used only to show that nothing MORE arrives. */
const settle = (ms = 6 * POLL_MS) => sleep(ms);

type SourceOptions = Omit<z.input<typeof fileSourceSchema>, 'type' | 'include'> & { include?: string[] };

describe('FileSource on a real file system', () => {
  let dir: string;
  let logs: string;
  let store: CheckpointStore;
  let consumer: RecordingConsumer;
  let telemetry: ReturnType<typeof testComponentMetrics>;
  const running: FileSource[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-file-source-'));
    logs = join(dir, 'logs');
    await mkdir(logs);
    store = CheckpointStore.forDataDir(join(dir, 'data'));
    consumer = new RecordingConsumer();
    telemetry = testComponentMetrics('source');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((source) => source.stop()));
    await rm(dir, { recursive: true, force: true });
    expect(consumer.problems).toEqual([]);
  });

  async function startSource(options: SourceOptions = {}, checkpoints: CheckpointStore = store): Promise<FileSource> {
    const { include = [join(logs, '*.log')], ...rest } = options;
    const config = fileSourceSchema.parse({ type: 'file', include, poll_interval: `${POLL_MS}ms`, rotate_wait: `${ROTATE_WAIT_MS}ms`, ...rest });
    const source = new FileSource(SOURCE, config, { agentId: AGENT, host: HOST, consumer, checkpoints, metrics: telemetry.metrics, logger: silentLogger() });
    running.push(source);
    await source.start();
    return source;
  }

  async function stopSource(source: FileSource): Promise<void> {
    await source.stop();
    running.splice(running.indexOf(source), 1);
  }

  /** A store loaded from the checkpoint file `store` wrote, as a restarted agent would have it. */
  async function reloadedStore(): Promise<CheckpointStore> {
    const reloaded = new CheckpointStore(store.file);
    await reloaded.load();
    return reloaded;
  }

  const eventCount = (count: number) => () => consumer.events.length >= count;

  /** Paths with a running tailer, as the lag gauge (set per tailer on every scan, removed when it ends) shows them. */
  async function tailedPaths(): Promise<string[]> {
    const metric = telemetry.families.registry.getSingleMetric('tributary_file_lag_bytes');
    if (!metric) return [];
    const { values } = await metric.get();
    return values.map((sample) => String(sample.labels.file));
  }

  describe('discovery and appends', () => {
    it('reads the lines a file holds and the lines appended later, with exact ids, offsets and checkpoints', async () => {
      const path = join(logs, 'app.log');
      await writeFile(path, 'first line\nsecond line\n');
      await startSource();
      await waitFor('the existing lines', eventCount(2));
      await appendFile(path, 'third line\nfourth line with ünïcödé\n');
      await waitFor('the appended lines', eventCount(4));
      await settle();

      const fileId = await idOf(path);
      const content = 'first line\nsecond line\nthird line\nfourth line with ünïcödé\n';
      expect(consumer.events.map(project)).toEqual(expectedEvents(path, fileId, content));
      expect(consumer.events[0]).toEqual({
        id: eventId(AGENT, fileId, 0),
        observed_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) as unknown,
        body: 'first line',
        host: HOST,
        agent_id: AGENT,
        source: { type: 'file', name: SOURCE, path, file_id: fileId, offset: 0 },
      });
      expect(new Set(consumer.batches.map((batch) => batch.key))).toEqual(new Set([`${HOST}:${path}`]));
      expect(store.get(fileId)?.offset).toBe(Buffer.byteLength(content));
      expect(await sampleValue(telemetry.families, 'tributary_component_received_events_total')).toBe(4);
      expect(await sampleValue(telemetry.families, 'tributary_component_sent_events_total')).toBe(4);
    });

    it('picks up a file created later within about a second and reads it from the beginning', async () => {
      const existing = join(logs, 'existing.log');
      await writeFile(existing, 'already here\n');
      await startSource();
      await waitFor('the existing file', eventCount(1));

      const later = join(logs, 'later.log');
      const createdAt = Date.now();
      await writeFile(later, 'born later 1\nborn later 2\n');
      await waitFor('the new file', eventCount(3), 1_000);
      expect(Date.now() - createdAt).toBeLessThan(1_000);
      await settle();

      const laterId = await idOf(later);
      expect(consumer.eventsOf(laterId).map(project)).toEqual(expectedEvents(later, laterId, 'born later 1\nborn later 2\n'));
      expect(consumer.events).toHaveLength(3);
    });

    it("with start_at: 'end' skips what a file held at start-up but reads what is appended, and new files from 0", async () => {
      const path = join(logs, 'app.log');
      const before = 'old line 1\nold line 2\n';
      await writeFile(path, before);
      await startSource({ start_at: 'end' });
      await appendFile(path, 'appended 1\nappended 2\n');
      await waitFor('the appended lines', eventCount(2));

      const later = join(logs, 'later.log');
      await writeFile(later, 'new file 1\n');
      await waitFor('the new file', eventCount(3));
      await settle();

      const fileId = await idOf(path);
      const laterId = await idOf(later);
      expect(consumer.eventsOf(fileId).map(project)).toEqual(expectedEvents(path, fileId, 'appended 1\nappended 2\n', Buffer.byteLength(before)));
      expect(consumer.eventsOf(laterId).map(project)).toEqual(expectedEvents(later, laterId, 'new file 1\n'));
      expect(consumer.events).toHaveLength(3);
    });
  });

  describe('rotation', () => {
    it('rename-and-create: reads what the writer adds to the renamed file before reopening, then the new file from 0', async () => {
      const path = join(logs, 'app.log');
      const rotated = join(logs, 'app.log.1'); // outside the glob
      const writer = await open(path, 'a');
      await writer.write('gen1 line 1\ngen1 line 2\n');
      const source = await startSource();
      await waitFor('the first lines', eventCount(2));
      const oldId = await idOf(path);

      await rename(path, rotated);
      await writer.write('gen1 line 3 after rename\ngen1 line 4 after rename\n');
      const reopened = await open(path, 'a');
      await reopened.write('gen2 line 1\ngen2 line 2\n');
      // A last buffered write of the old writer lands after the new file exists.
      await writer.write('gen1 line 5 late\n');
      await writer.close();
      await reopened.close();

      await waitFor('every line of both files', eventCount(7));
      await waitFor('the rotated file to be finished', () => !source.isActive(oldId), 2_000);
      await settle();

      const newId = await idOf(path);
      expect(newId).not.toBe(oldId);
      expect(consumer.eventsOf(oldId).map(project)).toEqual(
        expectedEvents(path, oldId, 'gen1 line 1\ngen1 line 2\ngen1 line 3 after rename\ngen1 line 4 after rename\ngen1 line 5 late\n'),
      );
      expect(consumer.eventsOf(newId).map(project)).toEqual(expectedEvents(path, newId, 'gen2 line 1\ngen2 line 2\n'));
      expect(consumer.events).toHaveLength(7);
    });

    it('rename-and-create with the rotated name inside the globs: no line duplicated, later writes to it still read', async () => {
      const path = join(logs, 'app.log');
      const rotated = join(logs, 'app.log.1');
      await writeFile(path, 'gen1 line 1\ngen1 line 2\n');
      const source = await startSource({ include: [join(logs, '*.log'), join(logs, '*.log.1')] });
      await waitFor('the first lines', eventCount(2));
      const oldId = await idOf(path);

      await rename(path, rotated);
      await appendFile(rotated, 'gen1 line 3\n');
      await writeFile(path, 'gen2 line 1\n');
      await waitFor('the new lines', eventCount(4));
      // The tailer that followed app.log ends after rotate_wait; discovery then resumes the identity at app.log.1 from its checkpoint.
      await waitFor('a tailer at the rotated path', () => tailedPaths().then((paths) => paths.includes(rotated)), 2_000);
      expect(source.isActive(oldId)).toBe(true);
      await appendFile(rotated, 'gen1 line 4 much later\n');
      await waitFor('the late line', eventCount(5));
      await settle();

      const newId = await idOf(path);
      const old = consumer.eventsOf(oldId).map(project);
      expect(old.map(({ body, offset, id }) => ({ body, offset, id }))).toEqual(
        expectedEvents(path, oldId, 'gen1 line 1\ngen1 line 2\ngen1 line 3\ngen1 line 4 much later\n').map(({ body, offset, id }) => ({ body, offset, id })),
      );
      expect(old.at(-1)?.path).toBe(rotated);
      expect(consumer.eventsOf(newId).map(project)).toEqual(expectedEvents(path, newId, 'gen2 line 1\n'));
      expect(consumer.events).toHaveLength(5);
    });

    it('copytruncate: lines written after the truncation are read from offset 0 of the new content, none twice', async () => {
      const path = join(logs, 'app.log');
      const rotated = join(logs, 'app.log.1');
      await writeFile(path, 'before 1\nbefore 2\nbefore 3\n');
      await startSource({ include: [join(logs, '*.log'), join(logs, '*.log.1')] });
      await waitFor('the first lines', eventCount(3));
      const oldId = await idOf(path);

      await copyFile(path, rotated);
      await truncate(path, 0);
      await appendFile(path, 'after 1\nafter 2\n');
      await waitFor('the lines after truncation', eventCount(5));
      await settle(ROTATE_WAIT_MS);

      const newId = await idOf(path);
      expect(consumer.eventsOf(oldId).map(project)).toEqual(expectedEvents(path, oldId, 'before 1\nbefore 2\nbefore 3\n'));
      expect(consumer.eventsOf(newId).map(project)).toEqual(expectedEvents(path, newId, 'after 1\nafter 2\n'));
      expect(consumer.events).toHaveLength(5);
    });

    it('copytruncate followed at once by more bytes than had been read: nothing is read from the old offset of the new content', async () => {
      const path = join(logs, 'app.log');
      await writeFile(path, 'short 1\n');
      await startSource();
      await waitFor('the first line', eventCount(1));
      const oldId = await idOf(path);

      // Synchronously, so the tailer cannot look in between: truncated and refilled past its offset.
      truncateSync(path, 0);
      appendFileSync(path, 'rewritten line 1\nrewritten line 2\n');
      await waitFor('the new content', eventCount(3));
      await settle();

      const newId = await idOf(path);
      expect(consumer.eventsOf(oldId).map(project)).toEqual(expectedEvents(path, oldId, 'short 1\n'));
      expect(consumer.eventsOf(newId).map(project)).toEqual(expectedEvents(path, newId, 'rewritten line 1\nrewritten line 2\n'));
      expect(consumer.events).toHaveLength(3);
    });

    it('copytruncate while stopped: the unread lines are read exactly once from the copy, the new content from 0', async () => {
      const path = join(logs, 'app.log');
      const rotated = join(logs, 'app.log.1');
      const include = [join(logs, '*.log'), join(logs, '*.log.1')];
      const read = 'read 1\nread 2\n';
      await writeFile(path, read);
      const first = await startSource({ include });
      await waitFor('the first lines', eventCount(2));
      const oldId = await idOf(path);
      await store.flush();
      await stopSource(first);

      await appendFile(path, 'unread 3\nunread 4\n');
      await copyFile(path, rotated);
      await truncate(path, 0);
      await appendFile(path, 'fresh 1\n');

      await startSource({ include }, await reloadedStore());
      await waitFor('the unread lines and the new content', eventCount(5));
      await settle(ROTATE_WAIT_MS);

      const newId = await idOf(path);
      const old = consumer.eventsOf(oldId).map(project);
      expect(old.slice(0, 2)).toEqual(expectedEvents(path, oldId, read));
      // Same file identity, same offsets: the ids are those the original file's lines would have had.
      expect(old.slice(2)).toEqual(expectedEvents(rotated, oldId, 'unread 3\nunread 4\n', Buffer.byteLength(read)));
      expect(consumer.eventsOf(newId).map(project)).toEqual(expectedEvents(path, newId, 'fresh 1\n'));
      expect(consumer.events).toHaveLength(5);
    });

    it('a file deleted while being read still yields all its lines', async () => {
      const path = join(logs, 'app.log');
      await writeFile(path, 'line 0\n');
      const source = await startSource({ read_chunk_bytes: '1KiB' });
      await waitFor('the first line', eventCount(1));
      const fileId = await idOf(path);

      const appended = lines('line', 1, 2_000);
      await appendFile(path, appended);
      await unlink(path);
      await waitFor('every line', eventCount(2_001));
      await waitFor('the deleted file to be finished', () => !source.isActive(fileId), 2_000);
      await settle();

      expect(consumer.events.map(project)).toEqual(expectedEvents(path, fileId, `line 0\n${appended}`));
    });

    it('inode reuse: a new file at the path of a deleted one with a checkpoint is read from 0, not from the old offset', async () => {
      const path = join(logs, 'app.log');
      const oldContent = lines('2024-05-01T00:00:00Z first generation', 1, 3);
      await writeFile(path, oldContent);
      const first = await startSource();
      await waitFor('the old file', eventCount(3));
      const oldId = await idOf(path);
      await store.flush();
      await stopSource(first);

      await unlink(path);
      // Longer than the old checkpoint, so resuming at the old offset would produce wrong lines instead of none.
      const newContent = lines('2024-05-02T00:00:00Z second generation', 1, 6);
      await writeFile(path, newContent);
      const newId = await idOf(path);
      expect(newId).not.toBe(oldId);

      const restarted = await reloadedStore();
      expect(restarted.get(oldId)?.offset).toBe(Buffer.byteLength(oldContent));
      await startSource({}, restarted);
      await waitFor('the new file', eventCount(9));
      await settle();

      expect(consumer.eventsOf(newId).map(project)).toEqual(expectedEvents(path, newId, newContent));
      expect(consumer.events).toHaveLength(9);
    });
  });

  describe('checkpoints', () => {
    it('resumes after the acknowledged lines on restart and re-reads unacknowledged ones with the same ids', async () => {
      const path = join(logs, 'app.log');
      consumer.autoAck = false;
      const acknowledged = 'r 1\nr 2\nr 3\n';
      await writeFile(path, acknowledged);
      const first = await startSource();
      await waitFor('the first batch', eventCount(3));
      const fileId = await idOf(path);
      expect(store.get(fileId)).toBeUndefined(); // nothing acknowledged yet
      consumer.deliverAll();
      expect(store.get(fileId)?.offset).toBe(Buffer.byteLength(acknowledged));

      await appendFile(path, 'r 4\nr 5\n');
      await waitFor('the unacknowledged batch', eventCount(5));
      expect(store.get(fileId)?.offset).toBe(Buffer.byteLength(acknowledged));
      await store.flush();
      await stopSource(first);
      const firstRun = consumer.events.map(project);

      consumer.autoAck = true;
      const restarted = await reloadedStore();
      expect(restarted.get(fileId)?.offset).toBe(Buffer.byteLength(acknowledged));
      await startSource({}, restarted);
      await waitFor('the re-read lines', eventCount(7));
      await appendFile(path, 'r 6\n');
      await waitFor('the line appended after restart', eventCount(8));
      await settle();

      const all = consumer.events.map(project);
      expect(firstRun).toEqual(expectedEvents(path, fileId, 'r 1\nr 2\nr 3\nr 4\nr 5\n'));
      expect(all.slice(5)).toEqual(expectedEvents(path, fileId, 'r 4\nr 5\nr 6\n', Buffer.byteLength(acknowledged)));
      expect(all.slice(5, 7)).toEqual(firstRun.slice(3, 5));
      expect(all).toHaveLength(8);
      expect(restarted.get(fileId)?.offset).toBe(Buffer.byteLength('r 1\nr 2\nr 3\nr 4\nr 5\nr 6\n'));
    });

    it('13.4: a batch refused for good never advances the checkpoint, nor do batches acknowledged after it', async () => {
      const path = join(logs, 'app.log');
      consumer.autoAck = false;
      const acknowledged = 'r 1\nr 2\n';
      await writeFile(path, acknowledged);
      const source = await startSource();
      await waitFor('the first batch', eventCount(2));
      const fileId = await idOf(path);
      consumer.deliverAll();
      expect(store.get(fileId)?.offset).toBe(Buffer.byteLength(acknowledged));

      await appendFile(path, 'r 3\n');
      await waitFor('the refused batch', eventCount(3));
      consumer.batches.at(-1)?.fail();
      await appendFile(path, 'r 4\n');
      await waitFor('a batch after it', eventCount(4));
      consumer.deliverAll();
      expect(store.get(fileId)?.offset).toBe(Buffer.byteLength(acknowledged));
      await stopSource(source);
    });

    it('acknowledgements out of order: the checkpoint waits at the gap, then moves across everything delivered', async () => {
      const path = join(logs, 'app.log');
      consumer.autoAck = false;
      await writeFile(path, 'o 1\n');
      const source = await startSource();
      await waitFor('the first batch', eventCount(1));
      await appendFile(path, 'o 2\n');
      await waitFor('the second batch', eventCount(2));
      await appendFile(path, 'o 3\n');
      await waitFor('the third batch', eventCount(3));
      const fileId = await idOf(path);
      expect(consumer.batches).toHaveLength(3);

      consumer.batches[2]?.deliver();
      consumer.batches[1]?.deliver();
      expect(store.get(fileId)).toBeUndefined();
      consumer.batches[0]?.deliver();
      expect(store.get(fileId)?.offset).toBe(Buffer.byteLength('o 1\no 2\no 3\n'));
      expect(await sampleValue(telemetry.families, 'tributary_component_sent_events_total')).toBe(3);
      await stopSource(source);
    });

    it('a file truncated while the agent was stopped restarts its checkpoint from 0 (the old, larger offset no longer holds it)', async () => {
      const path = join(logs, 'app.log');
      const before = lines('t', 1, 20);
      await writeFile(path, before);
      const first = await startSource();
      await waitFor('the first run', eventCount(20));
      const fileId = await idOf(path);
      await store.flush();
      await stopSource(first);

      // Same first line, so the same identity, but shorter than what was acknowledged.
      const after = lines('t', 1, 3);
      await writeFile(path, after);
      expect(await idOf(path)).toBe(fileId);
      const restarted = await reloadedStore();
      consumer.autoAck = false;
      await startSource({}, restarted);
      // Read from 0, and the old offset is gone before anything is acknowledged: a crash now must not resume at 20 lines.
      await waitFor('the truncated file read again', eventCount(23));
      expect(restarted.get(fileId)?.offset).toBe(0);
      consumer.deliverAll();
      expect(restarted.get(fileId)?.offset).toBe(Buffer.byteLength(after));
    });
  });

  describe('line content', () => {
    it('cuts lines at max_line_bytes, flags and counts them; replaces invalid UTF-8 with U+FFFD and counts it', async () => {
      const path = join(logs, 'app.log');
      const parts = [
        Buffer.from('short line\n'),
        Buffer.from(`${'x'.repeat(40)}\n`),
        Buffer.from(`${'y'.repeat(16)}\n`), // exactly the cap: kept whole
        Buffer.concat([Buffer.from('abc'), Buffer.from([0xff, 0xfe]), Buffer.from('def\n')]),
        Buffer.from('real \ufffd ok\n'), // a U+FFFD in the file is valid text
        Buffer.from(`${'z'.repeat(20)}\n`),
      ];
      const content = Buffer.concat(parts);
      const offsets = parts.map((_, index) => parts.slice(0, index).reduce((sum, part) => sum + part.length, 0));
      await writeFile(path, content);
      await startSource({ max_line_bytes: 16 });
      await waitFor('every line', eventCount(6));
      await settle();

      const fileId = await idOf(path);
      const expected: Array<{ body: string; truncated?: true }> = [
        { body: 'short line' },
        { body: 'x'.repeat(16), truncated: true },
        { body: 'y'.repeat(16) },
        { body: 'abc\ufffd\ufffddef' },
        { body: 'real \ufffd ok' },
        { body: 'z'.repeat(16), truncated: true },
      ];
      expect(consumer.events.map((event) => ({ ...project(event), ...(event.truncated === undefined ? {} : { truncated: event.truncated }) }))).toEqual(
        expected.map((line, index) => ({ ...line, id: eventId(AGENT, fileId, offsets[index] ?? -1), path, file_id: fileId, offset: offsets[index] })),
      );
      expect(await sampleValue(telemetry.families, 'tributary_component_truncated_events_total')).toBe(2);
      expect(await sampleValue(telemetry.families, 'tributary_component_invalid_text_events_total')).toBe(1);
      expect(store.get(fileId)?.offset).toBe(content.length);
    });

    it('multiline (preset java): a stack trace is one event at its first line; a pending record is flushed after flush_timeout', async () => {
      const path = join(logs, 'app.log');
      const flushTimeoutMs = 200;
      const plain = '2024-05-01 12:00:00.000 INFO starting\n';
      const trace = [
        '2024-05-01 12:00:01.000 ERROR Order 42 failed',
        'java.lang.IllegalStateException: Could not process order 42',
        '\tat com.example.orders.OrderService.process(OrderService.java:57)',
        '\tat java.base/java.lang.Thread.run(Thread.java:833)',
        'Caused by: java.io.IOException: disk full',
        '\t... 12 more',
      ];
      const after = '2024-05-01 12:00:02.000 INFO recovered\n';
      await writeFile(path, `${plain}${trace.join('\n')}\n${after}`);
      await startSource({ multiline: { preset: 'java', flush_timeout: `${flushTimeoutMs}ms` } });
      await waitFor('the first records', eventCount(3));
      const fileId = await idOf(path);
      const traceOffset = Buffer.byteLength(plain);
      const afterOffset = traceOffset + Buffer.byteLength(`${trace.join('\n')}\n`);
      expect(consumer.events.map((event) => [event.body, event.source.offset, event.id])).toEqual([
        [plain.trimEnd(), 0, eventId(AGENT, fileId, 0)],
        [trace.join('\n'), traceOffset, eventId(AGENT, fileId, traceOffset)],
        [after.trimEnd(), afterOffset, eventId(AGENT, fileId, afterOffset)],
      ]);
      // The last record has no successor line: it came only after the timeout, in a batch of its own.
      expect(consumer.batches.at(-1)?.events.map((event) => event.body)).toEqual([after.trimEnd()]);

      // A stack trace at the end of the file: held until flush_timeout passes, then one event.
      const tail = ['2024-05-01 12:00:03.000 ERROR again', 'java.lang.NullPointerException', '\tat com.example.A.b(A.java:1)'];
      const tailOffset = afterOffset + Buffer.byteLength(after);
      const writtenAt = Date.now();
      await appendFile(path, `${tail.join('\n')}\n`);
      await waitFor('the flushed trace', eventCount(4));
      const flushed = consumer.events[3] as Event;
      expect(consumer.receivedAt(flushed) - writtenAt).toBeGreaterThanOrEqual(flushTimeoutMs - 5);
      expect([flushed.body, flushed.source.offset, flushed.id]).toEqual([tail.join('\n'), tailOffset, eventId(AGENT, fileId, tailOffset)]);
      await settle();
      expect(consumer.events).toHaveLength(4);
      expect(store.get(fileId)?.offset).toBe(tailOffset + Buffer.byteLength(`${tail.join('\n')}\n`));
    });

    it('CRI: partial lines reassembled, time and log.iostream on the event, Kubernetes labels from the path', async () => {
      const containerId = '0123456789abcdef'.repeat(4);
      const containers = join(dir, 'var', 'log', 'containers');
      await mkdir(containers, { recursive: true });
      const path = join(containers, `web-7f9c_default_nginx-${containerId}.log`);
      const cri = [
        '2024-01-01T00:00:00.000000001Z stdout P hello ',
        '2024-01-01T00:00:00.000000002Z stderr F oops',
        '2024-01-01T00:00:00.000000003Z stdout P wor',
        '2024-01-01T00:00:00.000000004Z stdout F ld!',
        '2024-01-01T00:00:00.000000005Z stdout F single',
      ];
      await writeFile(path, `${cri.join('\n')}\n`);
      await startSource({ include: [join(containers, '*.log')], format: 'cri' });
      await waitFor('the records', eventCount(3));
      await settle();

      const fileId = await idOf(path);
      const offsetOf = (index: number) => cri.slice(0, index).reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
      const labels = { 'k8s.pod.name': 'web-7f9c', 'k8s.namespace.name': 'default', 'k8s.container.name': 'nginx', 'container.id': containerId };
      const event = (body: string, lineIndex: number, time: string, stream: string) => ({
        id: eventId(AGENT, fileId, offsetOf(lineIndex)),
        observed_at: expect.any(String) as unknown,
        body,
        host: HOST,
        agent_id: AGENT,
        source: { type: 'file', name: SOURCE, path, file_id: fileId, offset: offsetOf(lineIndex) },
        labels,
        time,
        attributes: { 'log.iostream': stream },
      });
      // Records come out in order of completion: the stderr line completes before the stdout record it interrupts.
      expect(consumer.events).toEqual([
        event('oops', 1, '2024-01-01T00:00:00.000000002Z', 'stderr'),
        event('hello world!', 0, '2024-01-01T00:00:00.000000001Z', 'stdout'),
        event('single', 4, '2024-01-01T00:00:00.000000005Z', 'stdout'),
      ]);
      expect(store.get(fileId)?.offset).toBe(offsetOf(5));
    });

    it('UTF-16LE with a byte-order mark: bodies decoded, offsets in bytes of the file', async () => {
      const path = join(logs, 'app.log');
      const texts = ['héllo wörld', 'zweite Zeile ✓', '😀 emoji'];
      const encode = (text: string) => Buffer.from(text, 'utf16le');
      await writeFile(path, Buffer.concat([Buffer.from([0xff, 0xfe]), ...texts.map((text) => encode(`${text}\n`))]));
      await startSource({ encoding: 'utf-16le' });
      await waitFor('the lines', eventCount(3));

      // A line appended in two writes split inside a code unit.
      const late = encode('late ünit\r\n');
      await appendFile(path, late.subarray(0, 5));
      await sleep(3 * POLL_MS);
      await appendFile(path, late.subarray(5));
      await waitFor('the late line', eventCount(4));
      await settle();

      const fileId = await idOf(path);
      // The byte-order mark belongs to the first line.
      const lengths = [2 + encode(`${texts[0] ?? ''}\n`).length, ...texts.slice(1).map((text) => encode(`${text}\n`).length)];
      const offsets = lengths.map((_, index) => lengths.slice(0, index).reduce((sum, length) => sum + length, 0));
      offsets.push(lengths.reduce((sum, length) => sum + length, 0));
      expect(consumer.events.map((event) => [event.body, event.source.offset, event.id])).toEqual(
        [...texts, 'late ünit'].map((body, index) => [body, offsets[index], eventId(AGENT, fileId, offsets[index] ?? -1)]),
      );
      expect(await sampleValue(telemetry.families, 'tributary_component_invalid_text_events_total')).toBe(0);
    });
  });

  describe('which files are read', () => {
    it('does not read compressed rotated files even when the include glob matches them', async () => {
      const path = join(logs, 'app.log');
      await writeFile(join(logs, 'app.log.1.gz'), gzipSync('compressed 1\ncompressed 2\n'));
      await writeFile(path, 'plain 1\n');
      await startSource({ include: [join(logs, 'app.log*')] });
      await waitFor('the plain file', eventCount(1));
      await writeFile(join(logs, 'app.log.2.gz'), gzipSync('compressed later\n'));
      await appendFile(path, 'plain 2\n');
      await waitFor('the appended line', eventCount(2));
      await settle();

      const fileId = await idOf(path);
      expect(consumer.events.map(project)).toEqual(expectedEvents(path, fileId, 'plain 1\nplain 2\n'));
      expect(await tailedPaths()).toEqual([path]);
    });

    it('tails a compressed file when ignore_compressed is false (so the glob above does match it)', async () => {
      const compressed = join(logs, 'app.log.1.gz');
      await writeFile(compressed, gzipSync('compressed 1\ncompressed 2\n'));
      await startSource({ include: [join(logs, 'app.log*')], ignore_compressed: false, fingerprint: { max_bytes: 8 } });
      await waitFor('a tailer on the compressed file', () => tailedPaths().then((paths) => paths.includes(compressed)));
    });

    it('max_open_files: 4 with 40 files: every line of every file arrives, and files are revisited for appends', async () => {
      const paths = Array.from({ length: 40 }, (_, index) => join(logs, `file-${String(index).padStart(2, '0')}.log`));
      const contents = new Map(paths.map((path, index) => [path, lines(`file ${index} line`, 1, 5)]));
      for (const [path, content] of contents) await writeFile(path, content);
      await startSource({ max_open_files: 4 });
      await waitFor('every line of every file', eventCount(200), 10_000);

      const appendedTo = [paths[0], paths[17], paths[39]].filter((path) => path !== undefined);
      for (const path of appendedTo) {
        const more = lines(`${path} appended`, 1, 3);
        await appendFile(path, more);
        contents.set(path, `${contents.get(path) ?? ''}${more}`);
      }
      await waitFor('the appended lines', eventCount(209), 10_000);
      await settle();

      expect(consumer.events).toHaveLength(209);
      for (const [path, content] of contents) {
        const fileId = await idOf(path);
        expect(consumer.eventsOf(fileId).map(project)).toEqual(expectedEvents(path, fileId, content));
      }
    });

    it('a symlink to a file inside the include glob and the file itself: every line delivered once', async () => {
      const path = join(logs, 'app.log');
      const link = join(logs, 'link.log');
      await writeFile(path, 'linked 1\nlinked 2\n');
      await symlink('app.log', link);
      await startSource();
      await waitFor('the lines', eventCount(2));
      await appendFile(path, 'linked 3\n');
      await waitFor('the appended line', eventCount(3));
      await settle();

      const fileId = await idOf(path);
      const events = consumer.events.map(project);
      expect(events).toHaveLength(3);
      const tailedAs = events[0]?.path;
      expect([path, link]).toContain(tailedAs);
      expect(events).toEqual(expectedEvents(tailedAs ?? path, fileId, 'linked 1\nlinked 2\nlinked 3\n'));
    });

    it('a file shorter than a complete first line yields nothing until its newline arrives, then the line with the right id', async () => {
      const path = join(logs, 'app.log');
      await writeFile(path, 'partial');
      await startSource();
      await settle();
      expect(consumer.events).toHaveLength(0);

      await appendFile(path, ' line\nsec');
      await waitFor('the completed line', eventCount(1));
      await settle();
      expect(consumer.events).toHaveLength(1);
      await appendFile(path, 'ond\n');
      await waitFor('the second line', eventCount(2));
      await settle();

      const fileId = await idOf(path);
      expect(fileId).toBe(await fingerprintOfPath(path));
      expect(consumer.events.map(project)).toEqual(expectedEvents(path, fileId, 'partial line\nsecond\n'));
    });
  });
});
