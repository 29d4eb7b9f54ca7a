import { appendFile, copyFile, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import { fileSourceSchema } from './config.js';
import { FileSource } from './file-source.js';
import { AGENT, expectedEvents, HOST, idOf, lineEnds, lines, project, RecordingConsumer, SOURCE, waitFor } from './test-support/file-source-harness.js';

/**
 * Rotation while the tailer is behind and blocked waiting for its output (a
 * slow or dead Kafka): what the file holds may change under a tailer that is
 * not at its end, and the next read must notice before it trusts a byte.
 */

const POLL_MS = 50;
const ROTATE_WAIT_MS = 300;

type SourceOptions = Omit<z.input<typeof fileSourceSchema>, 'type' | 'include'> & { include?: string[] };

describe('FileSource while its output applies backpressure', () => {
  let dir: string;
  let logs: string;
  let store: CheckpointStore;
  let consumer: RecordingConsumer;
  let telemetry: ReturnType<typeof testComponentMetrics>;
  const running: FileSource[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-file-backpressure-'));
    logs = join(dir, 'logs');
    await mkdir(logs);
    store = CheckpointStore.forDataDir(join(dir, 'data'));
    consumer = new RecordingConsumer();
    telemetry = testComponentMetrics('source');
  });

  afterEach(async () => {
    consumer.unblock();
    await Promise.all(running.splice(0).map((source) => source.stop()));
    await rm(dir, { recursive: true, force: true });
    expect(consumer.problems).toEqual([]);
  });

  async function startSource(options: SourceOptions = {}): Promise<FileSource> {
    const { include = [join(logs, '*.log')], ...rest } = options;
    const config = fileSourceSchema.parse({ type: 'file', include, poll_interval: `${POLL_MS}ms`, rotate_wait: `${ROTATE_WAIT_MS}ms`, ...rest });
    const source = new FileSource(SOURCE, config, {
      agentId: AGENT,
      host: HOST,
      consumer,
      checkpoints: store,
      metrics: telemetry.metrics,
      logger: silentLogger(),
    });
    running.push(source);
    await source.start();
    return source;
  }

  it('13.0: copytruncate and writes past the old offset while blocked on the output: every line of the copy and of the new content exactly once, checkpoints only at lines read', async () => {
    const path = join(logs, 'app.log');
    const rotated = join(logs, 'app.log.1');
    const oldContent = lines('2026-12-07T06:00:00Z old generation line', 1, 300);
    await writeFile(path, oldContent);
    const oldId = await idOf(path);
    // Every offset a tracker commits to the store (the only way a checkpoint moves), by file.
    const commits: Array<[fileId: string, offset: number]> = [];
    const track = store.track.bind(store);
    vi.spyOn(store, 'track').mockImplementation((fileId, trackedPath, start, callbacks = {}) =>
      track(fileId, trackedPath, start, {
        ...callbacks,
        onCommit: (commit) => {
          commits.push([fileId, commit.offset]);
          callbacks.onCommit?.(commit);
        },
      }),
    );
    consumer.block();
    // Small reads: the tailer is far from the end of the file when it blocks after its first chunk.
    await startSource({ include: [join(logs, '*.log'), join(logs, '*.log.1')], read_chunk_bytes: '1KiB' });
    await waitFor('the tailer to block on the output', () => consumer.waiting === 1);

    await copyFile(path, rotated);
    await truncate(path, 0);
    const newContent = lines('2026-12-07T06:01:00Z new generation line', 1, 1_000);
    expect(Buffer.byteLength(newContent)).toBeGreaterThan(Buffer.byteLength(oldContent));
    await writeFile(path, newContent);
    const newId = await idOf(path);
    consumer.unblock();

    await waitFor('every line of both generations', () => consumer.events.length >= 1_300, 10_000);
    await waitFor('the copy to be read to its end', () => store.get(oldId)?.offset === Buffer.byteLength(oldContent), 5_000);
    await waitFor('the new content to be checkpointed', () => store.get(newId)?.offset === Buffer.byteLength(newContent), 5_000);

    const withoutPath = ({ id, body, file_id, offset }: ReturnType<typeof project>) => ({ id, body, file_id, offset });
    // The first lines were read at app.log, the rest from the copy: the same identity, ids and offsets either way.
    expect(consumer.eventsOf(oldId).map(project).map(withoutPath)).toEqual(expectedEvents(path, oldId, oldContent).map(withoutPath));
    expect(new Set(consumer.eventsOf(oldId).map((event) => event.source.path))).toEqual(new Set([path, rotated]));
    expect(consumer.eventsOf(newId).map(project)).toEqual(expectedEvents(path, newId, newContent));
    expect(consumer.events).toHaveLength(1_300);
    // No checkpoint of either identity ever pointed anywhere but just past a line of its own content.
    const oldEnds = lineEnds(oldContent);
    const newEnds = lineEnds(newContent);
    const strays = commits.filter(([fileId, offset]) => !(fileId === oldId ? oldEnds : fileId === newId ? newEnds : new Set()).has(offset));
    expect(strays).toEqual([]);
  }, 20_000);

  it('13.0: after copytruncate the new content is read even while the copy keeps the old identity alive at another path', async () => {
    const path = join(logs, 'app.log');
    const generations = 10;
    const contentOf = (generation: number) => lines(`2026-12-07T06:0${generation % 10}:00Z generation ${generation} line`, 1, 3);
    await writeFile(path, contentOf(1));
    await startSource({ include: [join(logs, '*.log'), join(logs, '*.log.*')] });
    for (let generation = 1; generation <= generations; generation++) {
      await waitFor(`generation ${generation}`, () => consumer.events.length === 3 * generation);
      if (generation === generations) break;
      // Discovery may look at the copy (a tailer of the old identity) before the path: it must still see the path's new content.
      await copyFile(path, `${path}.${generation}`);
      await truncate(path, 0);
      await writeFile(path, contentOf(generation + 1));
    }
    for (let generation = 1; generation <= generations; generation++) {
      const content = contentOf(generation);
      const fileId = await idOf(generation === generations ? path : `${path}.${generation}`);
      expect(consumer.eventsOf(fileId).map((event) => event.body)).toEqual(content.split('\n').slice(0, -1));
    }
    expect(consumer.events).toHaveLength(3 * generations);
  });

  it('13.0: tributary_file_lag_bytes counts bytes appended while the tailer waits on the output', async () => {
    const path = join(logs, 'app.log');
    const first = 'first line\n';
    await writeFile(path, first);
    consumer.autoAck = false;
    consumer.block();
    await startSource();
    await waitFor('the tailer to block on the output', () => consumer.waiting === 1);
    const lag = () => sampleValue(telemetry.families, 'tributary_file_lag_bytes', { file: path });
    await waitFor('the lag gauge of the blocked tailer', async () => (await lag()) === first.length);

    const appended = lines('appended while blocked', 1, 5_000);
    await appendFile(path, appended);
    const total = first.length + Buffer.byteLength(appended);
    // Nothing is acknowledged, so every byte of the file is lag; the gauge is refreshed on every rescan.
    await waitFor('the lag gauge to count the appended bytes', async () => (await lag()) === total);

    consumer.autoAck = true;
    consumer.deliverAll();
    consumer.unblock();
    await waitFor('every line', () => consumer.events.length === 5_001);
    await waitFor('the lag to drain', async () => (await lag()) === 0);
  });
});
