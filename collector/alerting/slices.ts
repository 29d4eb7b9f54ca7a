import type { AlertRule } from './rules/alert-rule.js';

/**
 * Partial aggregates. A rule's window is made of interval-long slices of
 * event time; each collector aggregates the records it consumes into slices,
 * and the one collector that owns a rule's group key adds the slices from
 * everywhere. Every aggregate is built from parts that add up exactly
 * (count, sum, min, max, latest sample, per-series counter spans), so the
 * result does not depend on how records were spread over partitions or
 * processes.
 */

/** One counter series within a slice: its first and last sample and the increase between them (resets handled). */
export interface SeriesSpan {
  /** First sample time (ms) and value. */
  ft: number;
  fv: number;
  lt: number;
  lv: number;
  /** Increase from the first to the last sample; a drop is a reset, counted as the new value (Prometheus's rule). */
  inc: number;
}

/** The slice's samples, reduced. JSON-friendly: it travels through Kafka. */
export interface Slice {
  count: number;
  /** Present once a valued sample was added (rules that aggregate values). */
  sum?: number;
  min?: number;
  max?: number;
  /** The latest sample: its time and value. */
  lt?: number;
  lv?: number;
  /** Rate rules over metrics. */
  series?: Record<string, SeriesSpan>;
}

function counterIncrease(from: number, to: number): number {
  return to >= from ? to - from : to;
}

/** Adds one sample; samples of one series must come in order (they do: a series lives in one partition). */
export function addSample(slice: Slice, timeMs: number, value: number | undefined, series: string | undefined): void {
  slice.count++;
  if (value === undefined) return;
  slice.sum = (slice.sum ?? 0) + value;
  slice.min = slice.min === undefined ? value : Math.min(slice.min, value);
  slice.max = slice.max === undefined ? value : Math.max(slice.max, value);
  if (slice.lt === undefined || timeMs >= slice.lt) {
    slice.lt = timeMs;
    slice.lv = value;
  }
  if (series === undefined) return;
  slice.series ??= {};
  const span = slice.series[series];
  if (span === undefined) slice.series[series] = { ft: timeMs, fv: value, lt: timeMs, lv: value, inc: 0 };
  else {
    span.inc += counterIncrease(span.lv, value);
    span.lt = timeMs;
    span.lv = value;
  }
}

/**
 * Adds `later` into `into`. For one series, `later` must hold samples after
 * those in `into` (partials of one source partition are applied in offset
 * order); series from different sources never share a name.
 */
export function mergeSlice(into: Slice, later: Slice): void {
  into.count += later.count;
  if (later.sum !== undefined) {
    into.sum = (into.sum ?? 0) + later.sum;
    into.min = into.min === undefined ? later.min : Math.min(into.min, later.min as number);
    into.max = into.max === undefined ? later.max : Math.max(into.max, later.max as number);
    if (into.lt === undefined || (later.lt as number) >= into.lt) {
      into.lt = later.lt;
      into.lv = later.lv;
    }
  }
  if (later.series === undefined) return;
  into.series ??= {};
  for (const [name, span] of Object.entries(later.series)) {
    const earlier = into.series[name];
    if (earlier === undefined) into.series[name] = { ...span };
    else {
      earlier.inc += counterIncrease(earlier.lv, span.fv) + span.inc;
      earlier.lt = span.lt;
      earlier.lv = span.lv;
    }
  }
}

/**
 * The rule's value over the slices of one window, oldest first; null when
 * there is no sample to aggregate (counts are 0 instead: no errors is a count).
 */
export function windowValue(rule: AlertRule, slices: readonly Slice[]): number | null {
  const seconds = rule.windowMs / 1000;
  let count = 0;
  for (const slice of slices) count += slice.count;
  if (rule.aggregate === 'count') return count;
  if (rule.aggregate === 'rate' && rule.signal === 'logs') return count / seconds;
  if (rule.aggregate === 'rate') return counterIncreaseOver(slices) / seconds;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let latestTime = Number.NEGATIVE_INFINITY;
  let latest: number | null = null;
  let valued = 0;
  for (const slice of slices) {
    if (slice.sum === undefined) continue;
    valued += slice.count;
    sum += slice.sum;
    min = Math.min(min, slice.min as number);
    max = Math.max(max, slice.max as number);
    if ((slice.lt as number) >= latestTime) {
      latestTime = slice.lt as number;
      latest = slice.lv as number;
    }
  }
  if (valued === 0) return null;
  switch (rule.aggregate) {
    case 'sum':
      return sum;
    case 'avg':
      return sum / valued;
    case 'min':
      return min;
    case 'max':
      return max;
    default:
      return latest;
  }
}

/** Increase of every counter series across the window's samples (no extrapolation beyond them), summed. */
function counterIncreaseOver(slices: readonly Slice[]): number {
  const last = new Map<string, number>();
  let increase = 0;
  for (const slice of slices) {
    for (const [name, span] of Object.entries(slice.series ?? {})) {
      const previous = last.get(name);
      if (previous !== undefined) increase += counterIncrease(previous, span.fv);
      increase += span.inc;
      last.set(name, span.lv);
    }
  }
  return increase;
}

export function sliceStart(rule: AlertRule, timeMs: number): number {
  return Math.floor(timeMs / rule.intervalMs) * rule.intervalMs;
}
