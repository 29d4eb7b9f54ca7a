import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeEvents } from '../../../shared/frame/frame-codec.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { FakeProducer, tooLarge } from '../../../shared/test-support/fake-producer.js';
import { expectOnlyTypedErrorsAsync, propertyParameters, propertyTimeoutMs } from '../../../shared/test-support/boundary-contract.js';
import { batchBudget, produceFramesSized, recordBytesBound, type FrameMessage } from './produce-frames.js';

/** What a v2 record batch adds to its records, as the broker counts it (log overhead + batch header). */
const BATCH_WRAPPER_BYTES = 12 + 61;

/**
 * A broker with a `max.message.bytes` of `limit`: it refuses a request whose
 * records of one partition exceed it (every key is its own partition here, the
 * worst case for mixing), and acknowledges the rest.
 */
function limitedBroker(limit: number): FakeProducer {
  return new FakeProducer({
    refuse: ({ messages }) => {
      const perKey = new Map<string, number>();
      for (const message of messages) {
        const key = String(message.key);
        const bytes = recordBytesBound({ key, value: message.value as Buffer, headers: message.headers as Record<string, string>, eventCount: 0 });
        perKey.set(key, (perKey.get(key) ?? 0) + bytes);
      }
      return [...perKey.values()].some((bytes) => bytes + BATCH_WRAPPER_BYTES > limit) ? tooLarge() : undefined;
    },
  });
}

/** Deterministic incompressible text of `bytes` characters. */
function noise(seed: number, bytes: number): string {
  let text = '';
  for (let block = 0; text.length < bytes; block++) text += createHash('sha256').update(`${seed}:${block}`).digest('hex');
  return text.slice(0, bytes);
}

const eventsArbitrary = fc.array(fc.integer({ min: 1, max: 6_000 }), { minLength: 1, maxLength: 12 });
const framesArbitrary = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), sizes: eventsArbitrary }), { minLength: 1, maxLength: 8 });

describe('produceFramesSized (property)', () => {
  it(
    '13.4: every event fitting the broker alone is acknowledged exactly once in key order; only events too large alone fail, counted exactly',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          framesArbitrary,
          fc.integer({ min: 2_000, max: 40_000 }),
          // The limit the output believes in: right, or stale (the topic's limit was lowered since start-up).
          fc.constantFrom(1, 4),
          async (frameSpecs, limit, staleness) => {
            const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
            const broker = limitedBroker(limit);
            const { families, metrics } = testComponentMetrics();
            let seed = 0;
            const frames: FrameMessage[] = [];
            const bodiesByFrame: string[][] = [];
            for (const spec of frameSpecs) {
              const bodies = spec.sizes.map((size) => noise(seed++, size));
              const encoded = encodeEvents(
                'raw.log.v1',
                bodies.map((body) => ({ body })),
              );
              frames.push({ key: spec.key, value: encoded.value, headers: encoded.headers, eventCount: bodies.length });
              bodiesByFrame.push(bodies);
            }
            const budget = batchBudget(limit) * staleness;
            const outcomes = await expectOnlyTypedErrorsAsync(
              () =>
                produceFramesSized(frames, {
                  producer: broker,
                  topic: 't',
                  retry: { initial_backoff: 1, max_backoff: 1 },
                  metrics,
                  logger: silentLogger(),
                  batchBudgetBytes: budget,
                }),
              [],
            );
            if (outcomes instanceof Error) throw outcomes;

            // An event fits iff its own one-event frame passes both the broker and the output's budget.
            const fitsAlone = (body: string) => {
              const alone = encodeEvents('raw.log.v1', [{ body }]);
              const bytes = recordBytesBound({ key: 'a', value: alone.value, headers: alone.headers, eventCount: 1 });
              return bytes + BATCH_WRAPPER_BYTES <= limit && bytes <= budget;
            };
            const acknowledgedByKey = new Map<string, string[]>();
            for (const message of broker.acknowledged) {
              const bodies = (decodeFrame(message.value as Buffer, message.headers as Record<string, string>).events as Array<{ body: string }>).map(
                (event) => event.body,
              );
              acknowledgedByKey.set(String(message.key), [...(acknowledgedByKey.get(String(message.key)) ?? []), ...bodies]);
            }
            const expectedByKey = new Map<string, string[]>();
            let tooLarge = 0;
            frameSpecs.forEach((spec, index) => {
              const bodies = bodiesByFrame[index] as string[];
              const fitting = bodies.filter(fitsAlone);
              tooLarge += bodies.length - fitting.length;
              expectedByKey.set(spec.key, [...(expectedByKey.get(spec.key) ?? []), ...fitting]);
              expect(outcomes[index]).toEqual(fitting.length === bodies.length ? { status: 'delivered' } : { status: 'failed', reason: 'frame_too_large' });
            });
            expect(acknowledgedByKey).toEqual(new Map([...expectedByKey].filter(([, bodies]) => bodies.length > 0)));
            expect(await sampleValue(families, 'tributary_component_discarded_events_total', { reason: 'frame_too_large' })).toBe(tooLarge);
            expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys);
          },
        ),
        propertyParameters('produceFramesSized', 60),
      );
    },
    propertyTimeoutMs(),
  );
});
