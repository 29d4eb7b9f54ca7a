import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../../shared/errors.js';
import type { OutgoingRecord, RecordSink, WriteResult } from '../../../shared/pipeline/record-sink.js';
import type { ErrorReason, PipelineMetrics } from '../../../shared/telemetry/metrics.js';
import { sampleValue } from '../../../shared/telemetry/test-metrics.js';
import type { LogRecord } from '../../../shared/record/log-record.js';

/**
 * The `RecordSink` contract every collector output passes (ARCHITECTURE.md,
 * "Adding a component"), run against the sink's fake target through a small
 * adapter. What differs between sinks by design (who retries, whether a
 * record can be refused alone, whether a replay can be deduplicated, what a
 * write in flight at stop does) is declared by the adapter, and each declared
 * style is asserted exactly; nothing is left unchecked for a style.
 *
 * Usage, in `<type>/<type>-sink.contract.test.ts`:
 *
 *   sinkContract({ name: 'solr', retries: 'in_write', …, create: async () => ({ sink, families, held, … }) });
 */

/** A request (or send, or disk write) held in flight until released. */
export interface HeldRequest {
  /** Resolves once the sink's request reached the target and is being held. */
  readonly reached: Promise<void>;
  /** Lets the held request go on (the target then answers it as it would have). */
  readonly release: () => void;
}

/** One sink built against a fresh fake target, started, with the target's state and faults in reach. */
export interface ContractTarget {
  readonly sink: RecordSink;
  /** The registry the sink's `ComponentMetrics` belong to (fresh: counters start at zero). */
  readonly families: PipelineMetrics;
  /** The event ids the target durably holds, once per copy held (a duplicate appears twice), in any order. */
  readonly held: () => Promise<string[]>;
  /**
   * Makes the target fail the next `attempts` attempts to deliver records as a whole, retriably (a 503, a
   * namenode away, EIO, a broker without a leader), then work again. One attempt must fail at exactly one
   * request: the suite counts one `errors_total{reason}` per failed attempt.
   */
  readonly unavailableFor: (attempts: number) => void;
  /** Refuses the record with this id for good from now on (a mapping conflict); only called when `refusesRecords`. */
  readonly refuse: (id: string) => void;
  /** Holds the next request carrying records in flight until released. */
  readonly hold: () => HeldRequest;
  /** Frees the fake and any temp files; the sink is stopped already. */
  readonly close: () => Promise<void>;
}

export interface SinkContractAdapter {
  /** The output type, for test names. */
  readonly name: string;
  /**
   * `in_write`: `write` retries a retriable failure itself (backoff through an injected sleep that returns at
   * once) and resolves when the records landed. `caller`: `write` rejects with a retriable TributaryError and
   * the pipeline writes the batch again.
   */
  readonly retries: 'in_write' | 'caller';
  /** The `errors_total` reason one retriable failed attempt is counted under. */
  readonly unavailableReason: ErrorReason;
  /** Whether the target can refuse one record of a batch, reported in `WriteResult.rejected` (Elasticsearch, Solr). */
  readonly refusesRecords: boolean;
  /** Whether writing a batch again (a crash before the offset commit) leaves each record once in the target. */
  readonly dedupesReplays: boolean;
  /** With `dedupesReplays`: whether the replayed records count in `sent_events_total` (a 409 or an overwrite does; a skip does not). */
  readonly replaysCountAsSent: boolean;
  /**
   * What a write in flight becomes when `stop()` is called. `aborts`: stop returns without waiting for the
   * target, and the write rejects with a retriable SHUTDOWN error. `completes`: stop waits for the write
   * (a local disk write, an acknowledgement of the shared producer) and the write resolves with the data held.
   */
  readonly atStop: 'aborts' | 'completes';
  create(): Promise<ContractTarget>;
}

/** A fake's hook that holds the first request after `arm()` until the test releases it. */
export class RequestHold {
  private armed: { reach: () => void; released: Promise<void> } | undefined;

  arm(): HeldRequest {
    const reached = deferred();
    const released = deferred();
    this.armed = { reach: reached.resolve, released: released.promise };
    return { reached: reached.promise, release: released.resolve };
  }

  /** Awaited by the fake before it answers a request that carries records. */
  async pass(): Promise<void> {
    const armed = this.armed;
    if (armed === undefined) return;
    this.armed = undefined;
    armed.reach();
    await armed.released;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/**
 * `count` log records with distinct ids, from Kafka positions (raw, 0, `from`…) in ascending order, one per
 * frame: what the collector hands an output. The same arguments give the same records (a replay).
 */
export function contractRecords(from: number, count: number): OutgoingRecord[] {
  return Array.from({ length: count }, (_, n) => {
    const offset = from + n;
    const record: LogRecord = {
      schema: 'tributary.log.v1',
      id: offset.toString(16).padStart(32, '0'),
      timestamp: '2026-11-23T12:00:00.000Z',
      observed_timestamp: '2026-11-23T12:00:00.000Z',
      severity_number: 9,
      body: `line ${offset}`,
      attributes: {},
      resource: { 'service.name': 'api' },
    };
    return { record, json: JSON.stringify(record), key: 'service.name=api', origin: { topic: 'raw', partition: 0, offset: String(offset), event: 0 } };
  });
}

const idsOf = (records: readonly OutgoingRecord[]): string[] => records.map((outgoing) => outgoing.record.id);
const sorted = (ids: readonly string[]): string[] => [...ids].sort();

/** What `write` resolves with: a WriteResult, or nothing from a sink without per-record results. */
type WriteOutcome = Awaited<ReturnType<RecordSink['write']>>;

/** What `write` resolved with, as a list (a sink without per-record results resolves with nothing). */
function rejectedOf(result: WriteOutcome): WriteResult['rejected'] {
  return result === undefined ? [] : result.rejected;
}

async function counters(families: PipelineMetrics, reasons: readonly ErrorReason[]) {
  const errors: Record<string, number> = {};
  for (const reason of reasons) errors[reason] = await sampleValue(families, 'tributary_component_errors_total', { reason });
  return {
    sent: await sampleValue(families, 'tributary_component_sent_events_total'),
    retried: await sampleValue(families, 'tributary_component_retried_events_total'),
    errors,
    allErrors: await sampleValue(families, 'tributary_component_errors_total'),
    discarded: await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'sink_rejected' }),
    allDiscarded: await sampleValue(families, 'tributary_component_discarded_events_total'),
    queued: await sampleValue(families, 'tributary_component_queued_events'),
  };
}

/** Registers the contract's tests for one sink (call at a test file's top level). */
export function sinkContract(adapter: SinkContractAdapter): void {
  describe(`RecordSink contract: ${adapter.name}`, () => {
    let targets: ContractTarget[] = [];

    afterEach(async () => {
      for (const target of targets) {
        await target.sink.stop();
        await target.close();
      }
      targets = [];
    });

    async function target(): Promise<ContractTarget> {
      const created = await adapter.create();
      targets.push(created);
      return created;
    }

    /**
     * Writes a batch the way the pipeline does for this sink's retry style; returns what write resolved
     * with and how many times it rejected (retriably) first.
     */
    async function deliver(sink: RecordSink, records: readonly OutgoingRecord[], maxRejections: number): Promise<{ result: WriteOutcome; rejections: number }> {
      for (let rejections = 0; ; rejections++) {
        try {
          return { result: await sink.write(records), rejections };
        } catch (error) {
          expect(error).toBeInstanceOf(TributaryError);
          expect((error as TributaryError).retriable).toBe(true);
          if (rejections >= maxRejections) throw error;
        }
      }
    }

    it('1. write resolves only when the target holds every record: read back, exact ids', async () => {
      const { sink, families, held } = await target();
      const first = contractRecords(0, 5);
      expect(rejectedOf(await sink.write(first))).toEqual([]);
      expect(sorted(await held())).toEqual(sorted(idsOf(first)));
      const second = contractRecords(5, 3);
      expect(rejectedOf(await sink.write(second))).toEqual([]);
      expect(sorted(await held())).toEqual(sorted(idsOf([...first, ...second])));
      expect(await counters(families, [])).toMatchObject({ sent: 8, retried: 0, allErrors: 0, allDiscarded: 0, queued: 0 });
    });

    it(`2. a target away for two attempts: ${adapter.retries === 'in_write' ? 'write retries and the batch lands once' : 'write rejects retriably twice, the third lands once'}`, async () => {
      const { sink, families, held, unavailableFor } = await target();
      const records = contractRecords(0, 5);
      unavailableFor(2);
      const { result, rejections } = await deliver(sink, records, adapter.retries === 'in_write' ? 0 : 2);
      expect(rejections).toBe(adapter.retries === 'in_write' ? 0 : 2);
      expect(rejectedOf(result)).toEqual([]);
      expect(sorted(await held())).toEqual(sorted(idsOf(records)));
      expect(await counters(families, [adapter.unavailableReason])).toMatchObject({
        sent: 5,
        // Retried inside write: both failed attempts sent all five again. Retried by the pipeline: the sink sent nothing again itself.
        retried: adapter.retries === 'in_write' ? 10 : 0,
        errors: { [adapter.unavailableReason]: 2 },
        allErrors: 2,
        allDiscarded: 0,
        queued: 0,
      });
    });

    // A sink that cannot refuse one record (a file, a topic, an HDFS file) must never report one refused.
    if (!adapter.refusesRecords) {
      it('3. a sink that cannot refuse single records never reports one: the whole batch is durable', async () => {
        const { sink, families, held } = await target();
        const records = contractRecords(0, 5);
        expect(rejectedOf(await sink.write(records))).toEqual([]);
        expect(sorted(await held())).toEqual(sorted(idsOf(records)));
        expect(await counters(families, [])).toMatchObject({ sent: 5, allErrors: 0, allDiscarded: 0, queued: 0 });
      });
    } else {
      it('3. a record refused for good is reported with its index and a reason; the rest is durable', async () => {
        const { sink, families, held, refuse } = await target();
        const records = contractRecords(0, 5);
        const refused = records[2]?.record.id ?? '';
        refuse(refused);
        const rejected = rejectedOf(await sink.write(records));
        expect(rejected).toEqual([{ index: 2, reason: expect.stringMatching(/\S/) as unknown }]);
        expect(sorted(await held())).toEqual(sorted(idsOf(records).filter((id) => id !== refused)));
        expect(await counters(families, ['sink_rejected'])).toMatchObject({
          sent: 4,
          retried: 0,
          errors: { sink_rejected: 1 },
          allErrors: 1,
          discarded: 1,
          allDiscarded: 1,
          queued: 0,
        });
      });
    }

    it('4. every outcome is counted: exact metrics after a scripted run (ok, away once, refusal, replay)', async () => {
      const { sink, families, held, unavailableFor, refuse } = await target();
      const first = contractRecords(0, 4);
      const second = contractRecords(4, 4);
      const third = contractRecords(8, 4);
      await deliver(sink, first, 0);
      unavailableFor(1);
      await deliver(sink, second, adapter.retries === 'in_write' ? 0 : 1);
      if (adapter.refusesRecords) refuse(third[1]?.record.id ?? '');
      const thirdRejected = rejectedOf((await deliver(sink, third, 0)).result);
      expect(thirdRejected.map((entry) => entry.index)).toEqual(adapter.refusesRecords ? [1] : []);
      await deliver(sink, first, 0);
      const refusals = adapter.refusesRecords ? 1 : 0;
      const replayed = !adapter.dedupesReplays || adapter.replaysCountAsSent ? 4 : 0;
      expect(await counters(families, [adapter.unavailableReason, 'sink_rejected'])).toEqual({
        sent: 12 - refusals + replayed,
        retried: adapter.retries === 'in_write' ? 4 : 0,
        errors: { [adapter.unavailableReason]: 1, sink_rejected: refusals },
        allErrors: 1 + refusals,
        discarded: refusals,
        allDiscarded: refusals,
        queued: 0,
      });
      const expected = [...first, ...second, ...third].filter((_, n) => !(adapter.refusesRecords && n === 9));
      expect(sorted(await held())).toEqual(sorted(idsOf(adapter.dedupesReplays ? expected : [...expected, ...first])));
    });

    // A stop that waits for the held request never returns: the test's timeout is then the failure.
    it(`5. stop() drains: a write in flight ${adapter.atStop === 'aborts' ? 'rejects with a retriable SHUTDOWN error and stop returns without the target' : 'completes durably before stop returns'}`, async () => {
      const { sink, held, hold } = await target();
      const records = contractRecords(0, 5);
      const request = hold();
      const writing = sink.write(records).then(
        (result) => ({ resolved: true as const, result }),
        (error: unknown) => ({ resolved: false as const, error }),
      );
      await request.reached;
      const stopping = sink.stop();
      if (adapter.atStop === 'aborts') {
        await stopping;
        const outcome = await writing;
        expect(outcome.resolved).toBe(false);
        if (!outcome.resolved) {
          expect(outcome.error).toBeInstanceOf(TributaryError);
          expect(outcome.error).toMatchObject({ code: 'SHUTDOWN', retriable: true });
        }
        request.release();
      } else {
        request.release();
        await stopping;
        const outcome = await writing;
        expect(outcome.resolved).toBe(true);
        expect(sorted(await held())).toEqual(sorted(idsOf(records)));
      }
      // After stop, a write never resolves without the data: it lands, or it is refused retriably as SHUTDOWN.
      const after = contractRecords(5, 2);
      const late = await sink.write(after).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (late === undefined) expect(await held()).toEqual(expect.arrayContaining(idsOf(after)));
      else {
        expect(late).toBeInstanceOf(TributaryError);
        expect(late).toMatchObject({ code: 'SHUTDOWN', retriable: true });
      }
    }, 10_000);

    it(`6. replaying a batch (a crash before the commit) ${adapter.dedupesReplays ? 'leaves every record once' : 'appends it again, same ids (documented)'}`, async () => {
      const { sink, families, held } = await target();
      const records = contractRecords(0, 5);
      await sink.write(records);
      expect(rejectedOf(await sink.write(records))).toEqual([]);
      const ids = idsOf(records);
      expect(sorted(await held())).toEqual(sorted(adapter.dedupesReplays ? ids : [...ids, ...ids]));
      const replayed = !adapter.dedupesReplays || adapter.replaysCountAsSent ? 5 : 0;
      expect(await counters(families, [])).toMatchObject({ sent: 5 + replayed, retried: 0, allErrors: 0, allDiscarded: 0, queued: 0 });
    });
  });
}
