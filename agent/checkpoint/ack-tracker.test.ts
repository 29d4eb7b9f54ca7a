import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../shared/pipeline/types.js';
import { propertyParameters, propertyTimeoutMs } from '../../shared/test-support/boundary-contract.js';
import { AckTracker, type Commit, type HeldRange, type RangeAcknowledger } from './ack-tracker.js';

const DELIVERED: DeliveryOutcome = { status: 'delivered' };
const REFUSED: DeliveryOutcome = { status: 'failed', reason: 'kafka_rejected' };

function recordingTracker(start = 0): { tracker: AckTracker; commits: Commit[]; held: HeldRange[] } {
  const commits: Commit[] = [];
  const held: HeldRange[] = [];
  const tracker = new AckTracker(start, { onCommit: (commit) => commits.push(commit), onHeld: (range) => held.push(range) });
  return { tracker, commits, held };
}

describe('AckTracker', () => {
  it('commits each range acknowledged in order, with its events', () => {
    const { tracker, commits } = recordingTracker(100);
    const first = tracker.register(150, 2);
    const second = tracker.register(400, 5);
    expect(tracker.committed).toBe(100);
    first(DELIVERED);
    second(DELIVERED);
    expect(tracker.committed).toBe(400);
    expect(commits).toEqual([
      { offset: 150, events: 2 },
      { offset: 400, events: 5 },
    ]);
    expect(tracker.outstanding).toBe(0);
  });

  it('waits for a gap: a later range acknowledged first is committed only once the one before it is', () => {
    const { tracker, commits } = recordingTracker();
    const acks = [tracker.register(10, 1), tracker.register(20, 1), tracker.register(30, 1)];
    acks[2]?.(DELIVERED);
    acks[1]?.(DELIVERED);
    expect(tracker.committed).toBe(0);
    expect(commits).toEqual([]);
    acks[0]?.(DELIVERED);
    expect(tracker.committed).toBe(30);
    expect(commits).toEqual([{ offset: 30, events: 3 }]);
  });

  it('13.4: holds the checkpoint at a refused range for good, whatever is acknowledged after it, and says so once', () => {
    const { tracker, commits, held } = recordingTracker();
    const acks = [tracker.register(10, 1), tracker.register(20, 2), tracker.register(30, 3)];
    acks[0]?.(DELIVERED);
    acks[1]?.(REFUSED);
    acks[2]?.(DELIVERED);
    const later = tracker.register(40, 4);
    later(DELIVERED);
    expect(tracker.committed).toBe(10);
    expect(commits).toEqual([{ offset: 10, events: 1 }]);
    expect(held).toEqual([{ start: 10, end: 20, reason: 'kafka_rejected' }]);
    expect(tracker.heldAt).toEqual(held[0]);
    // Nothing behind the refused range is kept: memory stays bounded by what was in flight before it.
    expect(tracker.outstanding).toBe(1);
  });

  it('a refused range behind a pending one holds the checkpoint once the pending one is delivered', () => {
    const { tracker, held } = recordingTracker();
    const acks = [tracker.register(10, 1), tracker.register(20, 1), tracker.register(30, 1)];
    acks[1]?.(REFUSED);
    expect(held).toEqual([]);
    acks[0]?.(DELIVERED);
    acks[2]?.(DELIVERED);
    expect(tracker.committed).toBe(10);
    expect(held).toEqual([{ start: 10, end: 20, reason: 'kafka_rejected' }]);
  });

  it('an earlier refusal after a later one holds the checkpoint at the earlier', () => {
    const { tracker, held } = recordingTracker();
    const acks = [tracker.register(10, 1), tracker.register(20, 1), tracker.register(30, 1)];
    acks[2]?.({ status: 'failed', reason: 'frame_too_large' });
    acks[1]?.(REFUSED);
    acks[0]?.(DELIVERED);
    expect(tracker.committed).toBe(10);
    expect(held).toEqual([{ start: 10, end: 20, reason: 'kafka_rejected' }]);
  });

  it('counts only the first acknowledgement of a range', () => {
    const { tracker, commits, held } = recordingTracker();
    const ack = tracker.register(10, 1);
    ack(DELIVERED);
    ack(DELIVERED);
    ack(REFUSED);
    expect(tracker.committed).toBe(10);
    expect(commits).toEqual([{ offset: 10, events: 1 }]);
    expect(held).toEqual([]);
  });

  it('passes empty ranges (a stage held the line the batch started at) and counts their events', () => {
    const { tracker, commits } = recordingTracker(50);
    const acks = [tracker.register(50, 3), tracker.register(50, 1), tracker.register(80, 2)];
    acks[0]?.(DELIVERED);
    acks[1]?.(DELIVERED);
    expect(tracker.committed).toBe(50);
    acks[2]?.(DELIVERED);
    expect(commits).toEqual([
      { offset: 50, events: 3 },
      { offset: 50, events: 1 },
      { offset: 80, events: 2 },
    ]);
  });

  it('refuses a range that ends before the previous one: the stream would otherwise skip bytes', () => {
    const tracker = new AckTracker(0);
    tracker.register(100, 1);
    expect(() => tracker.register(99, 1)).toThrow(RangeError);
    expect(() => new AckTracker(10).register(5, 1)).toThrow(RangeError);
  });

  it('stays linear with many ranges in flight, acknowledged in order or in reverse', () => {
    for (const reverse of [false, true]) {
      const { tracker, commits } = recordingTracker();
      const acks: RangeAcknowledger[] = [];
      for (let index = 1; index <= 20_000; index++) acks.push(tracker.register(index * 10, 1));
      for (const ack of reverse ? [...acks].reverse() : acks) ack(DELIVERED);
      expect(tracker.committed).toBe(200_000);
      expect(tracker.outstanding).toBe(0);
      expect(commits.reduce((sum, commit) => sum + commit.events, 0)).toBe(20_000);
    }
  });

  /**
   * Any stream of registrations and acknowledgements, interleaved in any order, each range delivered, refused
   * or never acknowledged: after every step the committed offset is the end of the longest delivered prefix,
   * never past an unacknowledged or refused range, monotonic, and the events reported are exactly those of
   * the committed ranges.
   */
  it(
    'property: the committed offset is always the end of the longest contiguous delivered prefix',
    () => {
      const range = fc.record({ length: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10_000 })), events: fc.integer({ min: 0, max: 50 }) });
      const step = fc.record({
        register: fc.boolean(),
        pick: fc.nat(),
        outcome: fc.oneof({ weight: 8, arbitrary: fc.constant('delivered') }, fc.constant('failed'), fc.constant('never')),
      });
      fc.assert(
        fc.property(fc.nat(1_000_000), fc.array(range, { maxLength: 40 }), fc.array(step, { maxLength: 120 }), (start, ranges, steps) => {
          const { tracker, commits, held } = recordingTracker(start);
          const model: Array<{ start: number; end: number; events: number; outcome: 'pending' | 'delivered' | 'failed' | 'never'; ack?: RangeAcknowledger }> =
            [];
          let end = start;
          let previousCommitted = start;
          const unacknowledged = () => model.filter((entry) => entry.outcome === 'pending');

          const check = () => {
            let expected = start;
            let expectedEvents = 0;
            let firstFailed: (typeof model)[number] | undefined;
            for (const entry of model) {
              if (entry.outcome !== 'delivered') {
                if (entry.outcome === 'failed') firstFailed = entry;
                break;
              }
              expected = entry.end;
              expectedEvents += entry.events;
            }
            expect(tracker.committed).toBe(expected);
            expect(tracker.committed).toBeGreaterThanOrEqual(previousCommitted);
            previousCommitted = tracker.committed;
            for (const entry of model) if (entry.outcome !== 'delivered') expect(tracker.committed).toBeLessThanOrEqual(entry.start);
            expect(commits.reduce((sum, commit) => sum + commit.events, 0)).toBe(expectedEvents);
            expect(commits.at(-1)?.offset ?? start).toBe(expected);
            expect(held).toEqual(firstFailed ? [{ start: firstFailed.start, end: firstFailed.end, reason: 'kafka_rejected' }] : []);
          };

          const acknowledge = (entry: (typeof model)[number], outcome: 'delivered' | 'failed' | 'never') => {
            entry.outcome = outcome;
            if (outcome !== 'never') entry.ack?.(outcome === 'delivered' ? DELIVERED : REFUSED);
          };

          let next = 0;
          for (const { register, pick, outcome } of steps) {
            const pending = unacknowledged();
            const nextRange = ranges[next];
            if (nextRange !== undefined && (register || pending.length === 0)) {
              const entry = { start: end, end: end + nextRange.length, events: nextRange.events, outcome: 'pending' as const };
              end = entry.end;
              model.push({ ...entry, ack: tracker.register(entry.end, entry.events) });
              next++;
            } else if (pending.length > 0) {
              acknowledge(pending[pick % pending.length] as (typeof model)[number], outcome);
            }
            check();
          }
          // Whatever is left is delivered, in reverse, so gaps close from the far end.
          for (; next < ranges.length; next++) {
            const nextRange = ranges[next] as { length: number; events: number };
            model.push({
              start: end,
              end: end + nextRange.length,
              events: nextRange.events,
              outcome: 'pending',
              ack: tracker.register(end + nextRange.length, nextRange.events),
            });
            end += nextRange.length;
          }
          for (const entry of unacknowledged().reverse()) {
            acknowledge(entry, 'delivered');
            check();
          }
        }),
        propertyParameters('ack tracker prefix', 300),
      );
    },
    propertyTimeoutMs(),
  );
});
