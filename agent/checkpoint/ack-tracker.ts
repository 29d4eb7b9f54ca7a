import type { DeliveryOutcome } from '../../shared/pipeline/types.js';
import type { DropReason } from '../../shared/telemetry/metrics.js';

/** The checkpoint moved: every range up to `offset` is delivered; `events` were in the ranges it just passed. */
export interface Commit {
  readonly offset: number;
  readonly events: number;
}

/** A range refused for good: the checkpoint of this stream stays at `start` for as long as the stream lives. */
export interface HeldRange {
  readonly start: number;
  readonly end: number;
  readonly reason: DropReason;
}

export interface AckTrackerCallbacks {
  /** The contiguous delivered prefix grew; called synchronously from the acknowledgement that grew it. */
  onCommit?(commit: Commit): void;
  /** Called once, when the checkpoint first stops at a failed range (it never moves again in this stream). */
  onHeld?(held: HeldRange): void;
}

/** Resolves one registered range; only its first call counts. */
export type RangeAcknowledger = (outcome: DeliveryOutcome) => void;

interface Slot {
  readonly start: number;
  readonly end: number;
  readonly events: number;
  outcome: DeliveryOutcome | undefined;
}

/**
 * The acknowledgement path of one source stream (one tailer reading one file identity from one offset),
 * in one place. The stream registers each range it hands downstream, in the order it reads them; each
 * range is later acknowledged as delivered or failed, in any order. The committed offset is the end of
 * the longest run of delivered ranges from the start, so it only moves forward, never passes a range that
 * is unacknowledged, and never passes a failed one.
 *
 * A failed range is final for the stream: nothing re-sends it in this stream, so the checkpoint stays at
 * its start (the drop was counted where it happened, by the output) and a restart re-reads from there.
 * Ranges registered or acknowledged after it can never be committed, so they are not kept: memory is
 * bounded by the ranges in flight before the first failure.
 */
export class AckTracker {
  /** Registered and not yet committed, in registration order, from `head` on; a failed slot, if any, is the last. */
  private slots: Slot[] = [];
  private head = 0;
  private committedOffset: number;
  private registeredEnd: number;
  private held: HeldRange | undefined;
  /** A range failed: nothing registered after it can be committed, so it is not kept. */
  private failed = false;

  constructor(
    start: number,
    private readonly callbacks: AckTrackerCallbacks = {},
  ) {
    this.committedOffset = start;
    this.registeredEnd = start;
  }

  /** Every byte before this is delivered (in this stream, or before it started). */
  get committed(): number {
    return this.committedOffset;
  }

  /** The failed range the checkpoint stopped at, once it has. */
  get heldAt(): HeldRange | undefined {
    return this.held;
  }

  /** Ranges registered and not yet committed (nor discarded behind a failure). */
  get outstanding(): number {
    return this.slots.length - this.head;
  }

  /**
   * Registers the next range, from the end of the previous one (or the start) to `end`, holding `events`
   * events. An empty range (`end` equal to the previous end: a stage still holds the line it started at)
   * is fine. Returns the function that acknowledges it.
   */
  register(end: number, events: number): RangeAcknowledger {
    const start = this.registeredEnd;
    if (!(end >= start)) throw new RangeError(`acknowledgement ranges must be registered in order: ${end} is before ${start}`);
    this.registeredEnd = end;
    if (this.failed) return () => undefined;
    const slot: Slot = { start, end, events, outcome: undefined };
    this.slots.push(slot);
    return (outcome) => this.acknowledge(slot, outcome);
  }

  private acknowledge(slot: Slot, outcome: DeliveryOutcome): void {
    if (slot.outcome !== undefined) return;
    slot.outcome = outcome;
    if (outcome.status === 'failed') {
      // Slots behind a failed one can never be committed; one discarded earlier (behind an earlier failure) is not found.
      const index = this.slots.indexOf(slot, this.head);
      if (index >= 0) this.slots.length = index + 1;
      this.failed = true;
    }
    this.commitPrefix();
  }

  private commitPrefix(): void {
    let offset = this.committedOffset;
    let events = 0;
    for (let slot = this.slots[this.head]; slot?.outcome?.status === 'delivered'; slot = this.slots[this.head]) {
      offset = slot.end;
      events += slot.events;
      this.head++;
    }
    if (this.head === this.slots.length) {
      this.slots = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.slots.length) {
      // Amortized: shifting one slot per acknowledgement would be quadratic with many ranges in flight.
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
    if (events > 0 || offset !== this.committedOffset) {
      this.committedOffset = offset;
      this.callbacks.onCommit?.({ offset, events });
    }
    const first = this.slots[this.head];
    if (this.held === undefined && first?.outcome?.status === 'failed') {
      this.held = { start: first.start, end: first.end, reason: first.outcome.reason };
      this.callbacks.onHeld?.(this.held);
    }
  }
}
