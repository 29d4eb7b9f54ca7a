import { createHash } from 'node:crypto';
import type { AlertRecord } from '../../shared/record/alert-record.js';
import { WHOLE_FRAME, comparePositions, formatPosition, parsePosition, type SourcePosition } from '../../shared/pipeline/source-position.js';
import { stateKey, type AlertPartial } from './partials.js';
import { compare, type AlertRule, type RuleSet } from './rules/alert-rule.js';
import { mergeSlice, windowValue, type Slice } from './slices.js';

type LifecycleState = 'inactive' | 'pending' | 'firing';

/**
 * Everything known about one alert (rule and group key): its slices, the
 * last frame applied from each source partition, and its lifecycle. Plain
 * JSON: it is checkpointed to the compacted state topic and restored by
 * whichever collector owns the key next.
 */
export interface AlertKeyState {
  rule: string;
  key: string;
  labels: Record<string, string>;
  slices: Record<string, Slice>;
  /**
   * `topic/partition` → the last source position applied (`<offset>-<event>`; an offset alone, as written
   * before event indices, means the whole frame): a replayed partial frame at or before it is skipped.
   */
  applied: Record<string, string>;
  /** The latest slice start that had data. */
  lastSeen: number;
  /** The last evaluation time; the next is one interval (tumbling: one window) later. */
  evaluatedUntil: number;
  /** Whether any evaluation ran; before it, earlier slices still move the start back. */
  evaluated: boolean;
  state: LifecycleState;
  activeAt?: number;
  firedAt?: number;
  /** The state it fired from (pending, or inactive for rules without `for`), so repeats show the firing record unchanged. */
  firedFrom?: LifecycleState;
  lastTrueAt?: number;
  value: number | null;
  annotations: Record<string, string>;
}

export interface EvaluatorOptions {
  /** The collector instance, recorded in each alert as `generator`. */
  generator: string;
  /**
   * How far evaluation stays behind the clock, so records still in flight
   * (agent batching, Kafka, a collector failing over) land in their slices
   * before the window that holds them is evaluated.
   */
  evaluationDelayMs: number;
  /**
   * Samples dated later than the clock plus this are refused: a future-dated record would otherwise hold a slice
   * (memory) until its time comes, and enough of them exhaust the collector. Default 5 minutes.
   */
  maxFutureSkewMs?: number;
  /** Slices one alert may hold; a sample needing one more is refused. Default 10,000. */
  maxSlicesPerAlert?: number;
  /** Alerts (group keys) one rule may hold; a sample for one more is refused. Default 10,000. */
  maxAlertsPerRule?: number;
  /** The clock the future bound is measured against (tests pin it). */
  clock?: () => number;
}

export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const DEFAULT_MAX_SLICES_PER_ALERT = 10_000;
export const DEFAULT_MAX_ALERTS_PER_RULE = 10_000;

/** Why a sample was refused instead of kept in an alert's state. */
export type RefusedSampleReason = 'future' | 'slice_limit' | 'alert_limit';

export interface EvaluatorStats {
  /** Evaluations run, by rule id (one per alert per grid time). */
  evaluations: Map<string, number>;
  /** Samples that arrived after every window holding them was evaluated. */
  lateSamples: number;
  /** Partial frames skipped as replays. */
  replayedFrames: number;
  /** Samples refused to keep state bounded, by reason (since start). */
  refusedSamples: Record<RefusedSampleReason, number>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function hex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** sha256 of the sorted labels: one alert, whatever collector or restart produced it. */
export function fingerprintOf(labels: Readonly<Record<string, string>>): string {
  return hex(
    Object.keys(labels)
      .sort()
      .map((name) => `${name}\u0000${labels[name] ?? ''}`)
      .join('\u0001'),
    16,
  );
}

/**
 * Stage two, on the collector that owns a group key: adds the partial
 * aggregates from every collector into the key's slices and evaluates the
 * rule on an event-time grid (every interval, aligned to the epoch),
 * `evaluationDelayMs` behind the clock. Evaluations run in order for every
 * grid time, also to catch up after a restart, so the alerts depend on the
 * records and the rules only, not on which or how many collectors ran them.
 */
export class AlertEvaluator {
  readonly stats: EvaluatorStats = {
    evaluations: new Map(),
    lateSamples: 0,
    replayedFrames: 0,
    refusedSamples: { future: 0, slice_limit: 0, alert_limit: 0 },
  };
  private rules: RuleSet;
  private readonly states = new Map<string, AlertKeyState>();
  private readonly dirty = new Set<string>();
  /** Alerts held per rule id, so the per-rule cap is O(1) to check. */
  private readonly alertsPerRule = new Map<string, number>();
  /**
   * Slice counts by slices object: counting keys per sample would be quadratic, and `prune` replaces the object,
   * which drops its entry here and recounts once.
   */
  private readonly sliceCounts = new WeakMap<Record<string, Slice>, number>();
  private readonly maxFutureSkewMs: number;
  private readonly maxSlicesPerAlert: number;
  private readonly maxAlertsPerRule: number;
  private readonly clock: () => number;
  /** The latest evaluation horizon (clock minus delay) reached. */
  private horizon = Number.NEGATIVE_INFINITY;

  constructor(
    rules: RuleSet,
    private readonly options: EvaluatorOptions,
  ) {
    this.rules = rules;
    this.maxFutureSkewMs = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
    this.maxSlicesPerAlert = options.maxSlicesPerAlert ?? DEFAULT_MAX_SLICES_PER_ALERT;
    this.maxAlertsPerRule = options.maxAlertsPerRule ?? DEFAULT_MAX_ALERTS_PER_RULE;
    this.clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.states.size;
  }

  /** Applies one partial; false when every frame of it was already applied (a replay) or its rule is gone. */
  apply(partial: AlertPartial): boolean {
    const rule = this.rules.get(partial.rule);
    if (rule === undefined) return false;
    const id = stateKey(partial.rule, partial.key);
    let state = this.states.get(id);
    const appliedText = state?.applied[partial.source];
    let applied = appliedText === undefined ? undefined : parsePosition(appliedText);
    let changed = false;
    const latestAccepted = this.clock() + this.maxFutureSkewMs;
    for (const frame of partial.frames) {
      const at: SourcePosition = { offset: BigInt(frame.offset), event: frame.event ?? WHOLE_FRAME };
      if (applied !== undefined && comparePositions(at, applied) <= 0) {
        this.stats.replayedFrames++;
        continue;
      }
      for (const [start, slice] of Object.entries(frame.slices)) {
        const startMs = Number(start);
        const step = rule.tumbling ? rule.windowMs : rule.intervalMs;
        // Negated so that a start that is not a number is refused too.
        if (!(startMs <= latestAccepted)) {
          this.stats.refusedSamples.future += slice.count;
          continue;
        }
        if (state === undefined) {
          if ((this.alertsPerRule.get(rule.id) ?? 0) >= this.maxAlertsPerRule) {
            this.stats.refusedSamples.alert_limit += slice.count;
            continue;
          }
          state = this.create(id, rule, partial, startMs);
        }
        // Until its first evaluation an alert starts at its earliest slice, whichever source delivered it first.
        if (!state.evaluated && startMs < state.evaluatedUntil) state.evaluatedUntil = this.firstEvaluationBase(startMs, step);
        // A slice no future window holds: its window was evaluated already.
        if (startMs < state.evaluatedUntil + step - rule.windowMs) {
          this.stats.lateSamples += slice.count;
          continue;
        }
        const existing = state.slices[start];
        if (existing === undefined) {
          const slices = this.sliceCount(state);
          if (slices >= this.maxSlicesPerAlert) {
            this.stats.refusedSamples.slice_limit += slice.count;
            continue;
          }
          state.slices[start] = structuredClone(slice);
          this.sliceCounts.set(state.slices, slices + 1);
        } else mergeSlice(existing, slice);
        if (startMs > state.lastSeen) state.lastSeen = startMs;
      }
      if (state !== undefined) {
        state.applied[partial.source] = formatPosition(at);
        applied = at;
      }
      changed = true;
    }
    if (changed && state !== undefined) this.dirty.add(id);
    return changed;
  }

  private create(id: string, rule: AlertRule, partial: AlertPartial, firstSliceMs: number): AlertKeyState {
    const step = rule.tumbling ? rule.windowMs : rule.intervalMs;
    const state: AlertKeyState = {
      rule: rule.id,
      key: partial.key,
      labels: { ...partial.labels, ...rule.staticLabels },
      slices: {},
      applied: {},
      lastSeen: firstSliceMs,
      evaluatedUntil: this.firstEvaluationBase(firstSliceMs, step),
      evaluated: false,
      state: 'inactive',
      value: null,
      annotations: {},
    };
    this.hold(id, state);
    return state;
  }

  private sliceCount(state: AlertKeyState): number {
    let count = this.sliceCounts.get(state.slices);
    if (count === undefined) {
      count = Object.keys(state.slices).length;
      this.sliceCounts.set(state.slices, count);
    }
    return count;
  }

  /** Adds or replaces a state, keeping the per-rule count. */
  private hold(id: string, state: AlertKeyState): void {
    const previous = this.states.get(id);
    if (previous !== undefined) this.alertsPerRule.set(previous.rule, (this.alertsPerRule.get(previous.rule) ?? 1) - 1);
    this.states.set(id, state);
    this.alertsPerRule.set(state.rule, (this.alertsPerRule.get(state.rule) ?? 0) + 1);
  }

  private forget(id: string): void {
    const state = this.states.get(id);
    if (state === undefined) return;
    this.states.delete(id);
    const remaining = (this.alertsPerRule.get(state.rule) ?? 1) - 1;
    if (remaining > 0) this.alertsPerRule.set(state.rule, remaining);
    else this.alertsPerRule.delete(state.rule);
  }

  /** Alerts held for one rule (tests and the cap). */
  alertsOf(ruleId: string): number {
    return this.alertsPerRule.get(ruleId) ?? 0;
  }

  /** Slices held by one alert (tests and the cap). */
  slicesOf(id: string): number {
    const state = this.states.get(id);
    return state === undefined ? 0 : this.sliceCount(state);
  }

  /**
   * The first evaluation is the first grid time whose window holds the first slice, but never one already
   * past: a new alert made of late data does not replay history.
   */
  private firstEvaluationBase(firstSliceMs: number, step: number): number {
    return Math.max(Math.floor(firstSliceMs / step) * step, Math.floor(this.horizon / step) * step);
  }

  /** Runs every evaluation due by `nowMs` and returns the state changes, oldest first per alert. */
  evaluate(nowMs: number): AlertRecord[] {
    const horizon = nowMs - this.options.evaluationDelayMs;
    this.horizon = Math.max(this.horizon, horizon);
    const changes: AlertRecord[] = [];
    for (const [id, state] of this.states) {
      const rule = this.rules.get(state.rule);
      if (rule === undefined) continue;
      const step = rule.tumbling ? rule.windowMs : rule.intervalMs;
      let evaluated = false;
      while (state.evaluatedUntil + step <= horizon) {
        const at = state.evaluatedUntil + step;
        const change = this.evaluateAt(rule, state, at);
        if (change !== undefined) changes.push(change);
        state.evaluatedUntil = at;
        state.evaluated = true;
        evaluated = true;
        this.stats.evaluations.set(rule.id, (this.stats.evaluations.get(rule.id) ?? 0) + 1);
        this.prune(rule, state);
        if (this.finished(rule, state)) break;
        // An absent alert firing with no data left cannot change until data returns: skip to the horizon.
        if (rule.kind === 'absent' && state.state === 'firing' && Object.keys(state.slices).length === 0) {
          state.evaluatedUntil = Math.floor(horizon / step) * step;
        }
      }
      if (!evaluated) continue;
      this.dirty.add(id);
      if (this.finished(rule, state)) this.forget(id);
    }
    return changes;
  }

  /** A threshold alert with nothing in its window and nothing going on is forgotten (and its checkpoint tombstoned). */
  private finished(rule: AlertRule, state: AlertKeyState): boolean {
    return rule.kind === 'threshold' && state.state === 'inactive' && Object.keys(state.slices).length === 0;
  }

  private prune(rule: AlertRule, state: AlertKeyState): void {
    const step = rule.tumbling ? rule.windowMs : rule.intervalMs;
    const oldestNeeded = state.evaluatedUntil + step - rule.windowMs;
    if (Object.keys(state.slices).some((start) => Number(start) < oldestNeeded)) {
      state.slices = Object.fromEntries(Object.entries(state.slices).filter(([start]) => Number(start) >= oldestNeeded));
    }
  }

  private evaluateAt(rule: AlertRule, state: AlertKeyState, at: number): AlertRecord | undefined {
    // Oldest first: counter spans are joined across slices in time order.
    const window = Object.entries(state.slices)
      .filter(([start]) => Number(start) >= at - rule.windowMs && Number(start) < at)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, slice]) => slice);
    let holds: boolean;
    let value: number | null;
    if (rule.kind === 'absent') {
      value = null;
      holds = window.every((slice) => slice.count === 0);
    } else {
      value = windowValue(rule, window);
      holds = value !== null && compare(value, rule.condition?.op ?? '>', rule.condition?.threshold ?? 0);
    }
    if (holds) {
      state.value = value;
      state.lastTrueAt = at;
      // As Prometheus does, a pending or firing alert's annotations follow its current value (repeats carry them).
      if (state.state !== 'inactive') state.annotations = this.annotate(rule, state);
    }
    const previous = state.state;
    switch (previous) {
      case 'inactive':
        if (!holds) return undefined;
        state.activeAt = at;
        if (rule.forMs === 0) return this.transition(rule, state, 'firing', at, previous);
        return this.transition(rule, state, 'pending', at, previous);
      case 'pending':
        if (!holds) return this.transition(rule, state, 'inactive', at, previous);
        if (at - (state.activeAt as number) >= rule.forMs) return this.transition(rule, state, 'firing', at, previous);
        return undefined;
      case 'firing':
        if (holds || at - (state.lastTrueAt as number) < rule.keepFiringForMs) return undefined;
        return this.transition(rule, state, 'inactive', at, previous);
    }
  }

  private transition(rule: AlertRule, state: AlertKeyState, next: LifecycleState, at: number, previous: LifecycleState): AlertRecord {
    if (next === 'firing') {
      state.firedAt = at;
      state.firedFrom = previous;
    }
    if (next !== 'inactive') state.annotations = this.annotate(rule, state);
    const record = this.recordOf(state, next === 'inactive' ? 'resolved' : next, at, previous);
    state.state = next;
    if (next === 'inactive') {
      delete state.activeAt;
      delete state.firedAt;
      delete state.firedFrom;
      delete state.lastTrueAt;
    }
    return record;
  }

  private annotate(rule: AlertRule, state: AlertKeyState): Record<string, string> {
    return Object.fromEntries(rule.annotations.map(([name, template]) => [name, template({ value: state.value, labels: state.labels, rule: rule.id })]));
  }

  private recordOf(state: AlertKeyState, shown: AlertRecord['state'], at: number, previous: LifecycleState): AlertRecord {
    const fingerprint = fingerprintOf(state.labels);
    const record: AlertRecord = {
      schema: 'tributary.alert.v1',
      id: hex(`${fingerprint}\u0000${shown}\u0000${at}`, 32),
      fingerprint,
      rule: state.rule,
      state: shown,
      previous_state: previous,
      labels: state.labels,
      annotations: state.annotations,
      value: state.value,
      active_at: iso(state.activeAt ?? at),
      changed_at: iso(at),
      generator: this.options.generator,
    };
    if (state.firedAt !== undefined) record.fired_at = iso(state.firedAt);
    if (shown === 'resolved') record.resolved_at = iso(at);
    return record;
  }

  /** The current record of every firing alert, for repeat notifications. */
  firing(): AlertRecord[] {
    const records: AlertRecord[] = [];
    for (const state of this.states.values()) {
      if (state.state === 'firing') records.push(this.recordOf(state, 'firing', state.firedAt as number, state.firedFrom ?? 'pending'));
    }
    return records;
  }

  /** Every pending or firing alert this collector owns, for the status page (the most of them, firing first). */
  active(limit: number): Array<{ rule: string; labels: Record<string, string>; state: LifecycleState; since: number; value: number | null }> {
    const active = [];
    for (const state of this.states.values()) {
      if (state.state === 'inactive') continue;
      active.push({ rule: state.rule, labels: state.labels, state: state.state, since: state.firedAt ?? state.activeAt ?? state.lastSeen, value: state.value });
    }
    active.sort((a, b) => (a.state === b.state ? a.since - b.since : a.state === 'firing' ? -1 : 1));
    return active.slice(0, limit);
  }

  /** Alerts by lifecycle state, for the alerts gauge. */
  countByState(): Record<LifecycleState, number> {
    const counts = { inactive: 0, pending: 0, firing: 0 };
    for (const state of this.states.values()) counts[state.state]++;
    return counts;
  }

  /** States changed since the last call (undefined = forgotten: write a tombstone), for checkpointing. */
  takeDirty(): Array<[string, AlertKeyState | undefined]> {
    const out: Array<[string, AlertKeyState | undefined]> = [];
    for (const id of this.dirty) out.push([id, this.states.get(id)]);
    this.dirty.clear();
    return out;
  }

  /** Marks states dirty again after a checkpoint that failed. */
  markDirty(ids: Iterable<string>): void {
    for (const id of ids) this.dirty.add(id);
  }

  has(id: string): boolean {
    return this.states.has(id);
  }

  /** Puts a checkpointed state back (on taking over a partition). */
  restore(id: string, state: AlertKeyState): void {
    this.hold(id, state);
  }

  /** Forgets the keys `owned` says no longer belong here (their partition moved to another collector). */
  evict(owned: (id: string) => boolean): number {
    let evicted = 0;
    for (const id of [...this.states.keys()]) {
      if (owned(id)) continue;
      this.forget(id);
      this.dirty.delete(id);
      evicted++;
    }
    return evicted;
  }

  /** New rules: alerts of rules that are gone resolve now, the others keep their state. */
  replaceRules(rules: RuleSet, nowMs: number): AlertRecord[] {
    this.rules = rules;
    const changes: AlertRecord[] = [];
    for (const [id, state] of this.states) {
      if (rules.get(state.rule) !== undefined) continue;
      if (state.state !== 'inactive') changes.push(this.recordOf(state, 'resolved', nowMs, state.state));
      this.forget(id);
      this.dirty.add(id);
    }
    return changes;
  }
}
