import { afterEach, describe, expect, it } from 'vitest';
import type { BatchConsumer, DeliveryOutcome, EventBatch, Lifecycle } from '../../../shared/pipeline/types.js';
import type { ErrorReason, PipelineMetrics } from '../../../shared/telemetry/metrics.js';
import { sampleValue } from '../../../shared/telemetry/test-metrics.js';
import { waitFor } from '../../../shared/test-support/wait.js';

/**
 * The contract every agent source passes (ARCHITECTURE.md, "Adding a component"), the sources' counterpart of
 * collector/outputs/test-support/sink-contract.ts, run through a small adapter per source type. What differs by
 * design is declared, and each declared style is asserted exactly:
 *
 * - `checkpointed` (files: data can be read again): the source's position moves only behind a `delivered`
 *   outcome, never past an undelivered or failed batch, and a restart hands over again exactly what was not
 *   delivered. `sent_events_total` counts delivered events.
 * - `accepted` (scrapes, host readings: data cannot be read again): the consumer's acceptance (`consume`
 *   resolving: the disk spool has the batch) is the hand-off. `sent_events_total` counts accepted events only,
 *   a hand-off refused is counted as an error with a reason, and nothing is ever handed over twice.
 *
 * A failed outcome is counted as a drop, with its reason, by the output that refused it (shared/pipeline/types.ts);
 * the source must not count it as sent, nor count it again.
 *
 * Usage, in `<type>/<type>-source.contract.test.ts`: `sourceContract({ name: 'file', delivery: 'checkpointed', … })`.
 */

/** One running instance of the source under test. */
export interface SourceUnderTest {
  readonly source: Lifecycle;
  /**
   * New input the running source will pick up: lines appended to a file, a target's next exposition, a reading.
   * The source must hand it over in one batch (the adapter sizes limits for that).
   */
  readonly produce: () => Promise<void>;
}

/** The state source instances of one test share (a temp dir with a checkpoint store, a fake scrape target). */
export interface SourceFixture {
  /** The registry the sources' `ComponentMetrics` belong to (fresh: counters start at zero; shared across restarts). */
  readonly families: PipelineMetrics;
  /**
   * Builds and starts a source instance on this state, handing over to `consumer`. With `batchEvents`, one input
   * is cut into batches of at most that many events (`accepted` sources: the emit limit), so one input spans batches.
   */
  readonly start: (consumer: BatchConsumer, options?: { batchEvents?: number }) => Promise<SourceUnderTest>;
  /**
   * `checkpointed` only: where a restart would resume (the stored checkpoint) and the end of the input produced
   * so far, in the same unit (byte offsets of the file).
   */
  readonly position?: () => Promise<{ checkpoint: number; end: number }>;
  /** Frees temp files and fake targets; every source is stopped already. */
  readonly close: () => Promise<void>;
}

export interface SourceContractAdapter {
  /** The source type, for test names. */
  readonly name: string;
  readonly delivery: 'checkpointed' | 'accepted';
  /** The `errors_total` reason the source counts when `consume` rejects (the output is stopping). */
  readonly handOffErrorReason: ErrorReason;
  setup(): Promise<SourceFixture>;
}

/** A batch as the contract consumer received it. */
export interface ContractBatch {
  readonly ids: readonly string[];
  readonly eventCount: number;
  /** `consume` resolved: the batch was accepted (not when it was rejected or is still held). */
  accepted: boolean;
  outcome: DeliveryOutcome | undefined;
  readonly deliver: () => void;
  readonly fail: () => void;
}

/**
 * A consumer the test steers: outcomes reported at once (`deliver` / `fail`) or held (`hold`), `consume` held
 * (`block`, the backpressure of a full output) or rejected (`rejectNext`, an output that is stopping).
 * Contract violations are collected in `problems`, since throwing in `consume` would only reach the source.
 */
export class ContractConsumer implements BatchConsumer {
  readonly batches: ContractBatch[] = [];
  readonly problems: string[] = [];
  outcomes: 'deliver' | 'fail' | 'hold' = 'deliver';
  rejectNext = 0;
  /** Rejects the batch with this index (0-based, in hand-over order) instead of accepting it. */
  rejectIndex: number | undefined;
  waiting = 0;
  /** Set once a source's `stop()` resolved: a batch handed over after it is a violation. */
  closed = false;
  private gate: { promise: Promise<void>; open: () => void } | undefined;

  consume(batch: EventBatch): Promise<void> {
    if (this.closed) this.problems.push('a batch was handed over after stop() resolved');
    if (!batch.ndjson.endsWith('\n')) this.problems.push('ndjson does not end with a newline');
    const ids = batch.ndjson
      .slice(0, -1)
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    if (ids.length !== batch.eventCount) this.problems.push(`eventCount ${batch.eventCount} but ${ids.length} events`);
    let reported = false;
    const report = (outcome: DeliveryOutcome): void => {
      if (reported) return;
      reported = true;
      received.outcome = outcome;
      batch.onDelivered(outcome);
    };
    const received: ContractBatch = {
      ids,
      eventCount: batch.eventCount,
      accepted: false,
      outcome: undefined,
      deliver: () => report({ status: 'delivered' }),
      fail: () => report({ status: 'failed', reason: 'kafka_rejected' }),
    };
    this.batches.push(received);
    if (this.rejectNext > 0 || this.batches.length - 1 === this.rejectIndex) {
      if (this.rejectNext > 0) this.rejectNext--;
      return Promise.reject(new Error('the output is stopping'));
    }
    const accept = (): void => {
      received.accepted = true;
      if (this.outcomes === 'deliver') received.deliver();
      else if (this.outcomes === 'fail') received.fail();
    };
    const gate = this.gate;
    if (!gate) {
      accept();
      return Promise.resolve();
    }
    this.waiting++;
    return gate.promise.then(() => {
      this.waiting--;
      accept();
    });
  }

  block(): void {
    let open = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gate ??= { promise, open };
  }

  unblock(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.open();
  }

  events(batches: readonly ContractBatch[] = this.batches): number {
    return batches.reduce((sum, batch) => sum + batch.eventCount, 0);
  }

  ids(batches: readonly ContractBatch[] = this.batches): string[] {
    return batches.flatMap((batch) => batch.ids);
  }
}

async function counters(families: PipelineMetrics, reason: ErrorReason) {
  return {
    sent: await sampleValue(families, 'tributary_component_sent_events_total'),
    errors: await sampleValue(families, 'tributary_component_errors_total', { reason }),
    discarded: await sampleValue(families, 'tributary_component_discarded_events_total'),
  };
}

/** How long a source may take to return from stop() once nothing downstream holds it. */
const STOP_BOUND_MS = 2_000;

/** Registers the contract's tests for one source (call at a test file's top level). */
export function sourceContract(adapter: SourceContractAdapter): void {
  const checkpointed = adapter.delivery === 'checkpointed';

  describe(`source contract: ${adapter.name} (${adapter.delivery})`, () => {
    let fixture: SourceFixture | undefined;
    let running: SourceUnderTest[] = [];
    let consumers: ContractConsumer[] = [];

    afterEach(async () => {
      for (const consumer of consumers) consumer.unblock();
      for (const { source } of running) await source.stop();
      await fixture?.close();
      // Checked after the fact for every test: a well-formed batch is part of every clause.
      for (const consumer of consumers) expect(consumer.problems).toEqual([]);
      fixture = undefined;
      running = [];
      consumers = [];
    });

    async function setup(): Promise<SourceFixture> {
      fixture = await adapter.setup();
      return fixture;
    }

    async function start(
      on: SourceFixture,
      consumer = new ContractConsumer(),
      options: { batchEvents?: number } = {},
    ): Promise<{ consumer: ContractConsumer; instance: SourceUnderTest }> {
      consumers.push(consumer);
      const instance = await on.start(consumer, options);
      running.push(instance);
      return { consumer, instance };
    }

    async function stop(instance: SourceUnderTest, consumer: ContractConsumer): Promise<void> {
      const startedAt = Date.now();
      await instance.source.stop();
      consumer.closed = true;
      expect(Date.now() - startedAt).toBeLessThan(STOP_BOUND_MS);
      running = running.filter((candidate) => candidate !== instance);
    }

    const received = (consumer: ContractConsumer, count: number, what: string) =>
      waitFor(`${what} (${count} batch${count === 1 ? '' : 'es'} handed over)`, () => consumer.batches.length >= count, 5_000);

    if (checkpointed) {
      it('1. never early: with outcomes held, nothing is checkpointed or counted sent; delivered, the position is exactly the end', async () => {
        const on = await setup();
        const { consumer, instance } = await start(on);
        consumer.outcomes = 'hold';
        await instance.produce();
        await received(consumer, 1, 'the first input');
        await instance.produce();
        await received(consumer, 2, 'the second input');
        const position = on.position as NonNullable<SourceFixture['position']>;
        const before = await position();
        expect(before.checkpoint).toBe(0);
        expect((await counters(on.families, adapter.handOffErrorReason)).sent).toBe(0);
        // Out of order: the later batch alone may not move the position past the earlier one.
        consumer.batches[1]?.deliver();
        expect((await position()).checkpoint).toBe(0);
        expect((await counters(on.families, adapter.handOffErrorReason)).sent).toBe(0);
        consumer.batches[0]?.deliver();
        const after = await position();
        expect(after.checkpoint).toBe(after.end);
        expect(await counters(on.families, adapter.handOffErrorReason)).toEqual({ sent: consumer.events(), errors: 0, discarded: 0 });
      });

      it('2. a failed outcome holds the position before it; a restart hands over exactly the undelivered events', async () => {
        const on = await setup();
        const first = await start(on);
        await first.instance.produce();
        await received(first.consumer, 1, 'the delivered input');
        const delivered = first.consumer.ids();
        first.consumer.outcomes = 'fail';
        await first.instance.produce();
        await received(first.consumer, 2, 'the refused input');
        const refused = first.consumer.ids(first.consumer.batches.slice(1));
        const held = await (on.position as NonNullable<SourceFixture['position']>)();
        expect(held.checkpoint).toBeLessThan(held.end);
        await stop(first.instance, first.consumer);

        const second = await start(on);
        await received(second.consumer, 1, 'the undelivered input again');
        await stop(second.instance, second.consumer);
        expect(second.consumer.ids()).toEqual(refused);
        expect(second.consumer.ids().filter((id) => delivered.includes(id))).toEqual([]);
        const after = await (on.position as NonNullable<SourceFixture['position']>)();
        expect(after.checkpoint).toBe(after.end);
        // The refusal is the output's drop to count; the source counts each event sent once, when delivered.
        expect(await counters(on.families, adapter.handOffErrorReason)).toEqual({ sent: delivered.length + refused.length, errors: 0, discarded: 0 });
      });

      it('3. a refused hand-off (consume rejects) is counted with its reason and handed over again, nothing lost', async () => {
        const on = await setup();
        const { consumer, instance } = await start(on);
        consumer.rejectNext = 1;
        await instance.produce();
        await received(consumer, 2, 'the refused batch and its second hand-over');
        expect(consumer.ids(consumer.batches.slice(1, 2))).toEqual(consumer.ids(consumer.batches.slice(0, 1)));
        await waitFor('the position to reach the end', async () => {
          const { checkpoint, end } = await (on.position as NonNullable<SourceFixture['position']>)();
          return checkpoint === end;
        });
        expect(await counters(on.families, adapter.handOffErrorReason)).toEqual({ sent: consumer.events(consumer.batches.slice(1)), errors: 1, discarded: 0 });
      });
    } else {
      it('1. never early: a batch the consumer has not accepted is not counted sent; accepted, every event is', async () => {
        const on = await setup();
        const { consumer, instance } = await start(on);
        consumer.block();
        await instance.produce();
        await waitFor('a hand-off held by the consumer', () => consumer.waiting === 1);
        // Held: the source waits (backpressure) instead of handing over more or counting what is not accepted.
        expect(consumer.batches).toHaveLength(1);
        expect((await counters(on.families, adapter.handOffErrorReason)).sent).toBe(0);
        consumer.unblock();
        await waitFor('the accepted batch to be counted', async () => (await counters(on.families, adapter.handOffErrorReason)).sent > 0);
        await stop(instance, consumer);
        expect(consumer.batches.every((batch) => batch.accepted)).toBe(true);
        expect(await counters(on.families, adapter.handOffErrorReason)).toEqual({ sent: consumer.events(), errors: 0, discarded: 0 });
      });

      it('2. a failed outcome is not answered by a second hand-over: data that cannot be re-read is never duplicated', async () => {
        const on = await setup();
        const { consumer, instance } = await start(on);
        consumer.outcomes = 'fail';
        await instance.produce();
        await received(consumer, 1, 'the refused input');
        consumer.outcomes = 'deliver';
        await instance.produce();
        await received(consumer, 2, 'the next input');
        await stop(instance, consumer);
        const ids = consumer.ids();
        expect(new Set(ids).size).toBe(ids.length);
        // Accepted is handed off: sent counts both batches; the refusal is the output's drop to count.
        expect(await counters(on.families, adapter.handOffErrorReason)).toEqual({ sent: consumer.events(), errors: 0, discarded: 0 });
      });

      it('3. a refused hand-off (consume rejects) is counted with its reason, not as sent, and the source goes on', async () => {
        const on = await setup();
        const { consumer, instance } = await start(on);
        consumer.rejectNext = 1;
        await instance.produce();
        await received(consumer, 1, 'the refused batch');
        await instance.produce();
        await received(consumer, 2, 'the next input');
        await stop(instance, consumer);
        const accepted = consumer.batches.filter((batch) => batch.accepted);
        expect(accepted.length).toBe(consumer.batches.length - 1);
        expect(await counters(on.families, adapter.handOffErrorReason)).toEqual({ sent: consumer.events(accepted), errors: 1, discarded: 0 });
      });

      it('3b. an input spanning batches, refused midway: the batches accepted before the refusal are counted sent', async () => {
        const on = await setup();
        const consumer = new ContractConsumer();
        consumer.rejectIndex = 1;
        const { instance } = await start(on, consumer, { batchEvents: 2 });
        await instance.produce();
        await received(consumer, 3, 'the refused input and the next');
        await stop(instance, consumer);
        const accepted = consumer.batches.filter((batch) => batch.accepted);
        expect(accepted.length).toBe(consumer.batches.length - 1);
        expect(await counters(on.families, adapter.handOffErrorReason)).toEqual({ sent: consumer.events(accepted), errors: 1, discarded: 0 });
      });
    }

    it('4. stop() drains: a held hand-off finishes when released, stop returns in bounded time, nothing is handed over after', async () => {
      const on = await setup();
      const { consumer, instance } = await start(on);
      if (checkpointed) consumer.outcomes = 'hold';
      consumer.block();
      await instance.produce();
      await waitFor('a hand-off held by the consumer', () => consumer.waiting === 1);
      const stopping = instance.source.stop().then(() => {
        consumer.closed = true;
      });
      // The output drains after its sources (agent/agent.ts): it releases what it holds, and stop follows.
      consumer.unblock();
      const releasedAt = Date.now();
      await stopping;
      expect(Date.now() - releasedAt).toBeLessThan(STOP_BOUND_MS);
      running = running.filter((candidate) => candidate !== instance);
      expect(consumer.batches.length).toBeGreaterThan(0);
      expect(consumer.batches.every((batch) => batch.accepted)).toBe(true);
      const endAtStop = checkpointed ? (await (on.position as NonNullable<SourceFixture['position']>)()).end : 0;
      const handed = consumer.batches.length;
      await instance.produce();
      // Nothing to wait for: a stopped source hands over nothing, so give a wrong one time to do it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(consumer.batches).toHaveLength(handed);
      if (checkpointed) {
        // Outcomes of batches in flight at stop still move the position: the agent flushes checkpoints after its output drained.
        for (const batch of consumer.batches) batch.deliver();
        expect((await (on.position as NonNullable<SourceFixture['position']>)()).checkpoint).toBe(endAtStop);
      }
    });
  });
}
