/**
 * The contract every input boundary (parsers, decoders, config, documents,
 * paths) must keep, as reusable property-test pieces:
 *
 * - only typed errors escape (never a RangeError, TypeError or stack overflow);
 * - output stays within the boundary's caps;
 * - `Object.prototype` (and friends) are never touched by data;
 * - time is linear in input size, measured on adversarial shapes.
 *
 * `npm test` runs each property with a short budget; `npm run fuzz` sets
 * `TRIBUTARY_FUZZ_SECONDS` and every property then runs for that long with the
 * printed seed, so a failure is reproducible with `TRIBUTARY_FUZZ_SEED`.
 */
import fc from 'fast-check';

const fuzzSeconds = Number(process.env.TRIBUTARY_FUZZ_SECONDS ?? '0');
const seedFromEnv = process.env.TRIBUTARY_FUZZ_SEED;

/** True under `npm run fuzz`: properties run for minutes instead of a few hundred cases. */
export const FUZZING = Number.isFinite(fuzzSeconds) && fuzzSeconds > 0;

/** Under `npm run fuzz`, one input taking more CPU time than this at a boundary is a failure (the event-loop budget's order). */
export const FUZZ_INPUT_LIMIT_MS = 1_000;

/**
 * What the fuzz run saw since the last property report: inputs through the
 * boundary helpers below, the slowest one, and the process's peak RSS.
 */
const observed = { inputs: 0, slowestMs: 0, peakRss: 0, depth: 0 };

/**
 * CPU milliseconds this process has used (user + system). Inputs are timed in CPU time, not wall time: a fuzz
 * run shares two cores with other work, and a slow input is one that costs CPU, not one that waited for it.
 */
export function cpuNowMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function observeInput(startedAt: number): void {
  const elapsed = cpuNowMs() - startedAt;
  observed.inputs++;
  if (elapsed > observed.slowestMs) observed.slowestMs = elapsed;
  // rss() is a cheap syscall; sampling keeps it out of the hot path anyway.
  if ((observed.inputs & 63) === 0) observed.peakRss = Math.max(observed.peakRss, process.memoryUsage.rss());
  if (FUZZING && elapsed > FUZZ_INPUT_LIMIT_MS)
    throw new Error(`one input took ${Math.round(elapsed)} ms of CPU at the boundary (limit ${FUZZ_INPUT_LIMIT_MS} ms)`);
}

/** Times `fn` as one boundary input; nested helpers count the outermost call only. */
function timed<R>(fn: () => R): R {
  if (observed.depth > 0) return fn();
  observed.depth++;
  const startedAt = cpuNowMs();
  try {
    return fn();
  } finally {
    observed.depth--;
    observeInput(startedAt);
  }
}

async function timedAsync<R>(fn: () => Promise<R>): Promise<R> {
  // Async inputs overlap nothing here (fast-check runs them one at a time), but awaiting inside keeps nesting simple.
  const startedAt = cpuNowMs();
  try {
    return await fn();
  } finally {
    observeInput(startedAt);
  }
}

/** The fuzz summary line of one property, then the counters start again. */
function reportAndReset(name: string, numRuns: number): void {
  observed.peakRss = Math.max(observed.peakRss, process.memoryUsage.rss());
  process.stderr.write(
    `[fuzz] ${name}: ${numRuns} cases, ${observed.inputs} boundary calls, slowest ${observed.slowestMs.toFixed(1)} ms CPU, peak RSS ${Math.round(observed.peakRss / 2 ** 20)} MiB\n`,
  );
  observed.inputs = 0;
  observed.slowestMs = 0;
  observed.peakRss = 0;
}

/**
 * fast-check parameters for one property: a few hundred runs in the suite,
 * `TRIBUTARY_FUZZ_SECONDS` of runs under `npm run fuzz`. The seed is printed
 * when fuzzing so a long run's failure can be replayed.
 */
export function propertyParameters<T>(name: string, runs = 200): fc.Parameters<T> {
  const seed = seedFromEnv !== undefined ? Number(seedFromEnv) : FUZZING ? Date.now() ^ (Math.random() * 0x7fffffff) : 0x7a1b;
  if (FUZZING) process.stderr.write(`[fuzz] ${name}: seed ${seed}, ${fuzzSeconds} s\n`);
  if (!FUZZING) return { seed, numRuns: runs };
  // Prints what the run saw; fast-check's own report of a failure follows unchanged.
  const summary: fc.Plugin<T> = () => ({ onAllRunsComplete: (details) => reportAndReset(name, details.numRuns) });
  return {
    seed,
    numRuns: Number.MAX_SAFE_INTEGER,
    plugins: [fc.interruptAfterTimeLimit(fuzzSeconds * 1000, { failOnInterrupt: false }), summary],
  };
}

/** The vitest timeout a property test needs: its fuzz budget plus slack. */
export function propertyTimeoutMs(normalMs = 30_000): number {
  return FUZZING ? fuzzSeconds * 1000 + 60_000 : normalMs;
}

const GUARDED_PROTOTYPES: readonly object[] = [Object.prototype, Array.prototype, Function.prototype, String.prototype];

function snapshotPrototypes(): string[][] {
  return GUARDED_PROTOTYPES.map((proto) => Reflect.ownKeys(proto).map(String).sort());
}

/** Fails if running `fn` added or removed a property on a shared built-in prototype. */
export function expectPrototypesUntouched<R>(fn: () => R): R {
  const before = snapshotPrototypes();
  const result = timed(fn);
  const after = snapshotPrototypes();
  GUARDED_PROTOTYPES.forEach((proto, index) => {
    const beforeKeys = before[index] ?? [];
    const afterKeys = after[index] ?? [];
    const added = afterKeys.filter((key) => !beforeKeys.includes(key));
    const removed = beforeKeys.filter((key) => !afterKeys.includes(key));
    if (added.length === 0 && removed.length === 0) return;
    // Undo the damage so one failure does not cascade through the rest of the file.
    for (const key of added) Reflect.deleteProperty(proto, key);
    throw new Error(`a shared prototype was modified: added [${added.join(', ')}], removed [${removed.join(', ')}]`);
  });
  return result;
}

/**
 * Runs `fn` and fails unless it returns or throws one of `allowed` (the
 * boundary's typed errors). Returns the result or the caught typed error.
 */
export function expectOnlyTypedErrors<R>(fn: () => R, allowed: readonly (abstract new (...args: never[]) => Error)[]): R | Error {
  try {
    return timed(fn);
  } catch (error) {
    if (allowed.some((errorClass) => error instanceof errorClass)) return error as Error;
    const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`untyped error escaped the boundary: ${name}`, { cause: error });
  }
}

/** Async twin of {@link expectOnlyTypedErrors}. */
export async function expectOnlyTypedErrorsAsync<R>(fn: () => Promise<R>, allowed: readonly (abstract new (...args: never[]) => Error)[]): Promise<R | Error> {
  try {
    return await timedAsync(fn);
  } catch (error) {
    if (allowed.some((errorClass) => error instanceof errorClass)) return error as Error;
    const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`untyped error escaped the boundary: ${name}`, { cause: error });
  }
}

export interface LinearTimeOptions {
  /** How much bigger the second input is. */
  readonly growth?: number;
  /** The largest allowed time ratio for `growth`× the input (4× input ≤ 6× time by default). */
  readonly maxRatio?: number;
  /** The base input is grown until one run takes at least this long, so timer noise does not dominate. */
  readonly minBaseMs?: number;
  /** Never grow the base input past this size. */
  readonly maxBaseSize?: number;
  /** Best-of repetitions per size (the minimum is the least noisy estimate). */
  readonly repetitions?: number;
}

export interface LinearTimeResult {
  readonly baseSize: number;
  readonly baseMs: number;
  readonly grownMs: number;
  readonly ratio: number;
}

function bestOf<T>(repetitions: number, input: T, run: (input: T) => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < repetitions; attempt++) {
    // CPU time: another process on the machine slows the wall clock of one side, not this process's CPU.
    const started = cpuNowMs();
    run(input);
    best = Math.min(best, cpuNowMs() - started);
  }
  return best;
}

/**
 * Measures `run` on `makeInput(n)` and `makeInput(growth × n)` and fails when
 * the time grows faster than linearly (beyond `maxRatio`). `makeInput` should
 * build an adversarial shape (the one a quadratic implementation chokes on),
 * not random data. Typed errors thrown by `run` count as a normal outcome.
 */
export function expectLinearTime<T>(makeInput: (size: number) => T, run: (input: T) => unknown, options: LinearTimeOptions = {}): LinearTimeResult {
  // The whole measurement, base size search included, is made up to three times: on two cores shared with
  // servers and other test workers a run can be unlucky throughout (twice in CI, 2026-12-07, for checks that
  // pass alone every time). Quadratic work fails all three, so only a failing check pays for the retries.
  let failure: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return measureLinearTime(makeInput, run, options);
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

function measureLinearTime<T>(makeInput: (size: number) => T, run: (input: T) => unknown, options: LinearTimeOptions): LinearTimeResult {
  const growth = options.growth ?? 4;
  const maxRatio = options.maxRatio ?? 6;
  const minBaseMs = options.minBaseMs ?? 8;
  const maxBaseSize = options.maxBaseSize ?? 1 << 22;
  const repetitions = options.repetitions ?? 3;
  const guarded = (input: T): void => {
    try {
      run(input);
    } catch {
      // A typed rejection is an outcome like any other; callers check error types separately.
    }
  };
  let size = 256;
  let baseMs = bestOf(repetitions, makeInput(size), guarded);
  while (baseMs < minBaseMs && size * 2 <= maxBaseSize) {
    size *= 2;
    baseMs = bestOf(repetitions, makeInput(size), guarded);
  }
  const baseInput = makeInput(size);
  const grownInput = makeInput(size * growth);
  let grownMs = bestOf(repetitions, grownInput, guarded);
  // A floor keeps a sub-millisecond base from turning scheduler noise into a failure.
  let ratio = grownMs / Math.max(baseMs, 1);
  // A busy machine (a parallel test file, a GC of another worker, a major collection inside one run) can slow
  // one side, even in CPU time: measure both again, a few times, whenever the ratio fails. Quadratic work stays
  // ×growth² however often it is measured; noise does not. (Retrying only ratios below ×growth² once let a
  // 10 ms base with one collection in its grown run fail a CI run: the retries cost time only when failing.)
  for (let again = 0; again < 3 && ratio > maxRatio; again++) {
    baseMs = Math.min(baseMs, bestOf(repetitions, baseInput, guarded));
    grownMs = Math.min(grownMs, bestOf(repetitions, grownInput, guarded));
    ratio = grownMs / Math.max(baseMs, 1);
  }
  if (ratio > maxRatio) {
    throw new Error(
      `time is not linear in input size: ${size} units took ${baseMs.toFixed(1)} ms, ${size * growth} units took ${grownMs.toFixed(1)} ms (×${ratio.toFixed(1)} for ×${growth} input; allowed ×${maxRatio})`,
    );
  }
  return { baseSize: size, baseMs, grownMs, ratio };
}
