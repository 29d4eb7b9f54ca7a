import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import type { BatchConsumer, EventBatch } from '../../../../shared/pipeline/types.js';
import { eventId } from '../../../../shared/record/event-id.js';
import type { RawLogEvent } from '../../../../shared/record/raw-event.js';
import { silentLogger, type Logger } from '../../../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../../../shared/telemetry/test-metrics.js';
import { CheckpointStore } from '../../../checkpoint/checkpoint-store.js';
import { fileSourceSchema } from '../config.js';
import { fingerprintOfPath } from '../file-identity.js';
import { FileSource } from '../file-source.js';

/**
 * Pieces the file source's tests share: a consumer that records (and can
 * block, as a full output buffer does), the events a file's content must
 * become, and condition waits. Test-only.
 */

export const AGENT = 'agent-under-test';
export const HOST = 'host-under-test';
export const SOURCE = 'files';

export type Event = RawLogEvent & { truncated?: true; time?: string; attributes?: Record<string, string> };

export interface ReceivedBatch {
  key: string;
  events: Event[];
  receivedAt: number;
  delivered: boolean;
  deliver: () => void;
  /** Reports the batch refused for good (what the Kafka output does for an event too large for the topic). */
  fail: () => void;
}

/**
 * Records every batch; acknowledges at once (`autoAck`) or when the test says so. While `blocked`, `consume`
 * does not resolve until `unblock()`: the backpressure of a Kafka output whose buffer is full.
 */
export class RecordingConsumer implements BatchConsumer {
  readonly batches: ReceivedBatch[] = [];
  /** Contract violations seen in `consume`; asserted empty after each test (throwing here would only kill a tailer). */
  readonly problems: string[] = [];
  autoAck = true;
  /** How many `consume` calls are waiting for `unblock()` right now. */
  waiting = 0;
  private gate: { promise: Promise<void>; open: () => void } | undefined;

  consume(batch: EventBatch): Promise<void> {
    if (batch.schema !== 'raw.log.v1') this.problems.push(`schema ${batch.schema}`);
    if (!batch.ndjson.endsWith('\n')) this.problems.push('ndjson does not end with a newline');
    const events = batch.ndjson
      .slice(0, -1)
      .split('\n')
      .map((line) => JSON.parse(line) as Event);
    if (events.length !== batch.eventCount) this.problems.push(`eventCount ${batch.eventCount} but ${events.length} lines`);
    const received: ReceivedBatch = {
      key: batch.key,
      events,
      receivedAt: Date.now(),
      delivered: false,
      deliver: () => {
        if (received.delivered) return;
        received.delivered = true;
        batch.onDelivered({ status: 'delivered' });
      },
      fail: () => {
        if (received.delivered) return;
        received.delivered = true;
        batch.onDelivered({ status: 'failed', reason: 'frame_too_large' });
      },
    };
    this.batches.push(received);
    if (this.autoAck) received.deliver();
    const gate = this.gate;
    if (!gate) return Promise.resolve();
    this.waiting++;
    return gate.promise.then(() => {
      this.waiting--;
    });
  }

  /** From now on `consume` accepts a batch but does not return until `unblock()`. */
  block(): void {
    if (this.gate) return;
    let open = () => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gate = { promise, open };
  }

  unblock(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.open();
  }

  get events(): Event[] {
    return this.batches.flatMap((batch) => batch.events);
  }

  /** Acknowledges every batch not acknowledged yet, in the order received. */
  deliverAll(): void {
    for (const batch of this.batches) batch.deliver();
  }

  eventsOf(fileId: string): Event[] {
    return this.events.filter((event) => event.source.file_id === fileId);
  }

  receivedAt(event: Event): number {
    const batch = this.batches.find((candidate) => candidate.events.includes(event));
    if (!batch) throw new Error('event not received');
    return batch.receivedAt;
  }
}

export interface Projected {
  id: string;
  body: string;
  path: string;
  file_id: string;
  offset: number;
}

export function project(event: Event): Projected {
  return { id: event.id, body: event.body, path: event.source.path, file_id: event.source.file_id, offset: event.source.offset };
}

/** The events the complete lines of `content` (UTF-8), starting at file offset `base`, must become. */
export function expectedEvents(path: string, fileId: string, content: string, base = 0): Projected[] {
  const result: Projected[] = [];
  let offset = base;
  for (const body of content.split('\n').slice(0, -1)) {
    result.push({ id: eventId(AGENT, fileId, offset), body, path, file_id: fileId, offset });
    offset += Buffer.byteLength(body) + 1;
  }
  return result;
}

/** File offsets just past each line of `content`: the only places a checkpoint of that file may point to. */
export function lineEnds(content: string): Set<number> {
  const ends = new Set<number>([0]);
  let offset = 0;
  for (const body of content.split('\n').slice(0, -1)) {
    offset += Buffer.byteLength(body) + 1;
    ends.add(offset);
  }
  return ends;
}

export async function idOf(path: string): Promise<string> {
  const id = await fingerprintOfPath(path);
  if (id === undefined) throw new Error(`${path} has no complete first line`);
  return id;
}

/** The shared condition wait (shared/test-support/wait.ts), under the name the file source's tests import. */
export { waitFor } from '../../../../shared/test-support/wait.js';

export const lines = (prefix: string, from: number, to: number): string =>
  Array.from({ length: to - from + 1 }, (_, index) => `${prefix} ${from + index}\n`).join('');

/** Options of a file source under test: `include` defaults to `<logs>/*.log`. */
export type FixtureSourceOptions = Omit<z.input<typeof fileSourceSchema>, 'type' | 'include'> & { include?: string[] };

/**
 * A temp dir with a `logs/` folder, a checkpoint store, a recording consumer and fresh metrics, and the file
 * sources started on them; `close()` stops the sources and removes the dir.
 */
export class FileSourceFixture {
  readonly logs: string;
  readonly store: CheckpointStore;
  readonly consumer = new RecordingConsumer();
  readonly telemetry = testComponentMetrics('source');
  private readonly running: FileSource[] = [];

  private constructor(
    readonly dir: string,
    private readonly timings: { pollMs: number; rotateWaitMs: number },
  ) {
    this.logs = join(dir, 'logs');
    this.store = CheckpointStore.forDataDir(join(dir, 'data'));
  }

  static async create(timings = { pollMs: 50, rotateWaitMs: 300 }): Promise<FileSourceFixture> {
    const fixture = new FileSourceFixture(await mkdtemp(join(tmpdir(), 'tributary-file-source-')), timings);
    await mkdir(fixture.logs);
    return fixture;
  }

  async start(options: FixtureSourceOptions = {}, logger: Logger = silentLogger()): Promise<FileSource> {
    const { include = [join(this.logs, '*.log')], ...rest } = options;
    const config = fileSourceSchema.parse({
      type: 'file',
      include,
      poll_interval: `${this.timings.pollMs}ms`,
      rotate_wait: `${this.timings.rotateWaitMs}ms`,
      ...rest,
    });
    const source = new FileSource(SOURCE, config, {
      agentId: AGENT,
      host: HOST,
      consumer: this.consumer,
      checkpoints: this.store,
      metrics: this.telemetry.metrics,
      logger,
    });
    this.running.push(source);
    await source.start();
    return source;
  }

  async close(): Promise<void> {
    this.consumer.unblock();
    await Promise.all(this.running.splice(0).map((source) => source.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
