import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../shared/test-support/wait.js';
import { installProcessGuards, UNOWNED_COMPONENT } from '../shared/process/process-guard.js';
import type { BatchConsumer, EventBatch } from '../shared/pipeline/types.js';
import type { RawLogEvent } from '../shared/record/raw-event.js';
import { ComponentHealth } from '../shared/telemetry/component-health.js';
import { silentLogger } from '../shared/telemetry/logger.js';
import { PipelineMetrics } from '../shared/telemetry/metrics.js';
import { sampleValue } from '../shared/telemetry/test-metrics.js';
import { CheckpointStore } from './checkpoint/checkpoint-store.js';
import { SourceSupervisor, type NamedSource } from './source-supervisor.js';
import { fileSourceSchema } from './sources/file/config.js';
import { FileSource } from './sources/file/file-source.js';

type FailureMode = 'synchronous' | 'asynchronous';

/** A source whose first instance fails outside any catch, the way a scrape's RangeError escaped; later instances run. */
class FailingSource implements NamedSource {
  static created = 0;
  readonly instance: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly mode: FailureMode,
  ) {
    this.instance = ++FailingSource.created;
  }

  start(): Promise<void> {
    if (this.instance > 1) return Promise.resolve();
    this.timer = setTimeout(() => {
      if (this.mode === 'synchronous') throw new RangeError('Invalid time value (synchronous, from a timer)');
      // Nobody awaits this loop, like ScrapeLoop.run(): its rejection is unhandled.
      void (async () => {
        await Promise.resolve();
        throw new RangeError('Invalid time value (asynchronous, a rejected loop)');
      })();
    }, 20);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    clearTimeout(this.timer);
    return Promise.resolve();
  }
}

/** Keeps the events of every batch (read at once: a batch's text is not kept after delivery) and acknowledges it, as Kafka would. */
class AcknowledgingConsumer implements BatchConsumer {
  readonly events: RawLogEvent[] = [];

  consume(batch: EventBatch): Promise<void> {
    for (const line of batch.ndjson.split('\n')) if (line !== '') this.events.push(JSON.parse(line) as RawLogEvent);
    batch.onDelivered({ status: 'delivered' });
    return Promise.resolve();
  }
}

// Vitest reports every uncaught error as a failure; these tests need the process guard to be the only handler.
const saved: { exception: NodeJS.UncaughtExceptionListener[]; rejection: NodeJS.UnhandledRejectionListener[] } = { exception: [], rejection: [] };
let removeGuards: () => void = () => undefined;

beforeEach(() => {
  saved.exception = process.listeners('uncaughtException');
  saved.rejection = process.listeners('unhandledRejection');
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  FailingSource.created = 0;
});

afterEach(() => {
  removeGuards();
  for (const listener of saved.exception) process.on('uncaughtException', listener);
  for (const listener of saved.rejection) process.on('unhandledRejection', listener);
});

describe('SourceSupervisor with the process guard', () => {
  it.each<FailureMode>(['synchronous', 'asynchronous'])(
    '13.2: a source failing %sly is counted, marked failed and restarted, while a file source keeps tailing',
    async (mode) => {
      const health = new ComponentHealth();
      const metrics = new PipelineMetrics('agent');
      removeGuards = installProcessGuards({ health, metrics }, silentLogger());
      const dir = await mkdtemp(join(tmpdir(), 'tributary-supervisor-'));
      const logFile = join(dir, 'app.log');
      await writeFile(logFile, 'before 1\n');

      const consumer = new AcknowledgingConsumer();
      const fileMetrics = metrics.component({ component_id: 'app', component_type: 'file', component_kind: 'source' });
      const fileConfig = fileSourceSchema.parse({ type: 'file', include: [join(dir, '*.log')], poll_interval: '50ms' });
      const fileDeps = {
        agentId: 'a',
        host: 'h',
        consumer,
        checkpoints: CheckpointStore.forDataDir(join(dir, 'data')),
        metrics: fileMetrics,
        logger: silentLogger(),
      };
      const files = new SourceSupervisor('app', () => new FileSource('app', fileConfig, fileDeps), { health, metrics: fileMetrics, logger: silentLogger() });
      const brokenMetrics = metrics.component({ component_id: 'broken', component_type: 'fake', component_kind: 'source' });
      const broken = new SourceSupervisor('broken', () => new FailingSource('broken', mode), {
        health,
        metrics: brokenMetrics,
        logger: silentLogger(),
        backoff: { initialMs: 1_000, maxMs: 1_000 },
      });
      await files.start();
      await broken.start();
      try {
        await waitFor('the failure to be reported', () => !health.healthy, 20_000);
        expect(health.failed.map((failure) => failure.component)).toEqual(['source.broken']);
        expect(health.describe()[0]).toMatch(/^failed: source\.broken since .* \(restarts: 1\): Invalid time value/);
        expect(await sampleValue(metrics, 'tributary_component_errors_total', { component_id: 'broken', reason: 'component_failed' })).toBe(1);

        // The other source is untouched: lines appended after the failure are read.
        await appendFile(logFile, 'after 2\nafter 3\n');
        await waitFor('the lines appended after the failure', () => consumer.events.length === 3, 20_000);
        expect(consumer.events.map((event) => event.body)).toEqual(['before 1', 'after 2', 'after 3']);

        await waitFor('the restart', () => health.healthy, 20_000);
        expect(FailingSource.created).toBe(2);
        expect(broken.current.instance).toBe(2);
        expect(files.failures).toBe(0);
        expect(await sampleValue(metrics, 'tributary_component_errors_total', { reason: 'uncaught' })).toBe(0);
      } finally {
        await broken.stop();
        await files.stop();
      }
    },
    60_000,
  );

  it('13.2: an error no component owns marks the process failed (not ready), counted, without exiting', async () => {
    const health = new ComponentHealth();
    const metrics = new PipelineMetrics('collector');
    removeGuards = installProcessGuards({ health, metrics }, silentLogger());
    setTimeout(() => {
      throw new Error('nobody owns this');
    }, 1);
    await waitFor('the process to be marked failed', () => !health.healthy, 20_000);
    expect(health.failed).toMatchObject([{ component: UNOWNED_COMPONENT, error: 'nobody owns this' }]);
    expect(await sampleValue(metrics, 'tributary_component_errors_total', { component_id: 'process', reason: 'uncaught' })).toBe(1);
  });
});
