/**
 * Micro-benchmark of the exposition parser: one scrape of a large target
 * (default 100,000 series: counters with five labels, gauges, histograms with
 * 12 buckets, summaries) in the Prometheus text format and in OpenMetrics,
 * parsed several times after a warm-up. Wall time per parse, best and median
 * of the rounds, as samples, series and megabytes (10^6 bytes) per second.
 * The result is checked (series, samples, no problems) before timing, so a
 * fast wrong parser cannot score.
 *
 *   npm run build && node dist/bench/micro/exposition-parse.js
 *   BENCH_SERIES=20000 BENCH_ROUNDS=3 node dist/bench/micro/exposition-parse.js
 *   node --expose-gc dist/bench/micro/exposition-parse.js   # also reports the heap the result holds
 *
 * Prints one JSON line per format and appends them to bench/results/micro-exposition-parse.ndjson.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseExposition, type ExpositionFormat } from '../../agent/sources/prometheus_scrape/exposition/exposition-parser.js';
import { packageRoot } from '../../shared/paths.js';

const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const WARMUP_ROUNDS = 2;
/** Series per family, as a large exporter has them (a few hundred label sets per metric). */
const SERIES_PER_FAMILY = 500;
const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const QUANTILES = ['0.5', '0.9', '0.99'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const CODES = ['200', '201', '304', '400', '404', '500'];

interface Shape {
  text: string;
  series: number;
  samples: number;
}

/** Deterministic pseudo-random floats, so every run parses the same text. */
function makeRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * A float as Go's client_golang writes it (strconv 'g', shortest): exponent
 * form from 1e6 up and below 1e-4, with at least two exponent digits.
 */
function goFloat(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-4)) {
    return value.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(value);
}

/**
 * 40% counters, 40% gauges, 15% histograms, 5% summaries by series. Values
 * are what such metrics hold, written as Go's client writes them: counts and
 * byte sizes are integers (`1.234567e+06` from a million up), durations are
 * seconds with nanosecond resolution (`0.001151636`). OpenMetrics `_created`
 * values have the 17 digits the Python client writes (`1.7954737240046086e+09`).
 */
/** A duration in seconds as measured: whole nanoseconds. */
function seconds(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

function exposition(format: ExpositionFormat): Shape {
  const openMetrics = format === 'openmetrics';
  const random = makeRandom(42);
  const parts: string[] = [];
  let samples = 0;
  const counters = Math.round(SERIES * 0.4);
  const gauges = Math.round(SERIES * 0.4);
  const histograms = Math.round(SERIES * 0.15);
  const summaries = SERIES - counters - gauges - histograms;
  const labels = (index: number): string =>
    `method="${METHODS[index % METHODS.length] ?? ''}",code="${CODES[index % CODES.length] ?? ''}",handler="/api/v1/resource/${index % 97}",instance="10.0.${index % 250}.${index % 199}:9100",pod="app-${index}"`;

  for (let index = 0; index < counters; index++) {
    if (index % SERIES_PER_FAMILY === 0) {
      const family = `app_requests_${index / SERIES_PER_FAMILY}`;
      parts.push(`# HELP ${family}${openMetrics ? '' : '_total'} Requests handled by the app.\n# TYPE ${family}${openMetrics ? '' : '_total'} counter\n`);
    }
    const family = `app_requests_${Math.floor(index / SERIES_PER_FAMILY)}`;
    parts.push(`${family}_total{${labels(index)}} ${goFloat(Math.floor(random() * 1e7))}\n`);
    samples++;
    if (openMetrics) {
      parts.push(`${family}_created{${labels(index)}} ${goFloat(1.7e9 + random() * 1e8)}\n`);
      samples++;
    }
  }
  for (let index = 0; index < gauges; index++) {
    const family = `app_memory_bytes_${Math.floor(index / SERIES_PER_FAMILY)}`;
    if (index % SERIES_PER_FAMILY === 0) parts.push(`# HELP ${family} Memory in use.\n# TYPE ${family} gauge\n`);
    parts.push(`${family}{area="heap",pod="app-${index}",node="node-${index % 40}"} ${goFloat(Math.floor(random() * 1e9))}\n`);
    samples++;
  }
  for (let index = 0; index < histograms; index++) {
    const family = `app_request_duration_seconds_${Math.floor(index / SERIES_PER_FAMILY)}`;
    if (index % SERIES_PER_FAMILY === 0) parts.push(`# HELP ${family} Request latency.\n# TYPE ${family} histogram\n`);
    const seriesLabels = `handler="/api/v1/resource/${index % 97}",method="${METHODS[index % METHODS.length] ?? ''}",pod="app-${index}"`;
    let count = 0;
    for (const le of BUCKETS) {
      count += Math.floor(random() * 100);
      parts.push(`${family}_bucket{${seriesLabels},le="${le}"} ${count}\n`);
    }
    parts.push(`${family}_sum{${seriesLabels}} ${goFloat(seconds(random() * count * 0.2))}\n${family}_count{${seriesLabels}} ${goFloat(count)}\n`);
    samples += BUCKETS.length + 2;
  }
  for (let index = 0; index < summaries; index++) {
    const family = `app_gc_pause_seconds_${Math.floor(index / SERIES_PER_FAMILY)}`;
    if (index % SERIES_PER_FAMILY === 0) parts.push(`# HELP ${family} GC pauses.\n# TYPE ${family} summary\n`);
    const seriesLabels = `pod="app-${index}"`;
    for (const quantile of QUANTILES) parts.push(`${family}{${seriesLabels},quantile="${quantile}"} ${goFloat(seconds(random() / 100))}\n`);
    parts.push(`${family}_sum{${seriesLabels}} ${goFloat(seconds(random() * 10))}\n${family}_count{${seriesLabels}} ${goFloat(Math.floor(random() * 1e5))}\n`);
    samples += QUANTILES.length + 2;
  }
  if (openMetrics) parts.push('# EOF\n');
  return { text: parts.join(''), series: SERIES, samples };
}

function check(shape: Shape, format: ExpositionFormat): void {
  const parsed = parseExposition(shape.text, format);
  const series = parsed.families.reduce((sum, family) => sum + family.series.length, 0);
  if (series !== shape.series || parsed.samples !== shape.samples || parsed.problemCount !== 0) {
    throw new Error(
      `${format}: parsed ${series} series, ${parsed.samples} samples, ${parsed.problemCount} problems; expected ${shape.series}, ${shape.samples}, 0`,
    );
  }
}

/** MiB of heap the parse result holds, when run with --expose-gc. */
function retainedMib(shape: Shape, format: ExpositionFormat): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return null;
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = parseExposition(shape.text, format);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (kept.samples !== shape.samples) throw new Error('unreachable: the result is held until measured');
  return Number(((after - before) / 2 ** 20).toFixed(1));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function run(format: ExpositionFormat): Record<string, unknown> {
  const shape = exposition(format);
  const bytes = Buffer.byteLength(shape.text);
  check(shape, format);
  for (let round = 0; round < WARMUP_ROUNDS; round++) parseExposition(shape.text, format);
  const seconds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    parseExposition(shape.text, format);
    seconds.push((performance.now() - start) / 1000);
  }
  const best = Math.min(...seconds);
  const typical = median(seconds);
  return {
    benchmark: 'micro-exposition-parse',
    format,
    date: new Date().toISOString(),
    series: shape.series,
    samples: shape.samples,
    megabytes: Number((bytes / 1e6).toFixed(1)),
    rounds: ROUNDS,
    best_ms: Number((best * 1000).toFixed(1)),
    median_ms: Number((typical * 1000).toFixed(1)),
    samples_per_second: Math.round(shape.samples / typical),
    series_per_second: Math.round(shape.series / typical),
    mb_per_second: Number((bytes / 1e6 / typical).toFixed(1)),
    best_samples_per_second: Math.round(shape.samples / best),
    retained_heap_mib: retainedMib(shape, format),
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  };
}

async function main(): Promise<void> {
  const results = [run('prometheus-text'), run('openmetrics')];
  for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
  await mkdir(join(packageRoot(), 'bench', 'results'), { recursive: true });
  await appendFile(join(packageRoot(), 'bench', 'results', 'micro-exposition-parse.ndjson'), results.map((result) => `${JSON.stringify(result)}\n`).join(''));
}

await main();
