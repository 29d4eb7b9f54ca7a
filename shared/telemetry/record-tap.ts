import type { ServerResponse } from 'node:http';

/**
 * Live samples of the records flowing past a point of the pipeline (`tributary tap`), for debugging a parser or
 * a route without a new consumer group. Off the hot path: with no tap open a point costs one map lookup per
 * batch; with one open, records are copied (as the JSON text the pipeline already has) only until the tap has
 * its `limit`, into a queue no longer than that limit. A slow reader loses samples (counted and reported to
 * it), never slows the pipeline.
 */

/** At most this many taps open at once per process; more are refused (HTTP 429). */
export const MAX_OPEN_TAPS = 8;
/** The most records one tap may ask for. */
export const MAX_TAP_LIMIT = 1_000;
/** The longest one tap may stay open waiting for records. */
export const MAX_TAP_SECONDS = 300;

export interface TapSample {
  /** The point's id: `source.<name>` (agent), `processed`, `output.<id>`, `dead_letter` (collector). */
  readonly point: string;
  /** The record (or event) as JSON text, exactly as the pipeline serialized it. */
  readonly json: string;
}

export interface TapOptions {
  readonly point: string;
  readonly limit: number;
  /** Called once per sample taken, in order, at most `limit` times. */
  readonly onSample: (sample: TapSample) => void;
}

export interface OpenTap {
  /** Samples taken so far. */
  readonly taken: number;
  /** Resolves when the tap has its limit (or is closed). */
  readonly full: Promise<void>;
  close(): void;
}

class TapSession implements OpenTap {
  taken = 0;
  readonly full: Promise<void>;
  private resolveFull!: () => void;
  closed = false;

  constructor(
    private readonly options: TapOptions,
    private readonly onClose: (session: TapSession) => void,
  ) {
    this.full = new Promise((resolve) => (this.resolveFull = resolve));
  }

  /** False once the session wants no more. */
  take(json: string): boolean {
    if (this.closed) return false;
    this.taken++;
    this.options.onSample({ point: this.options.point, json });
    if (this.taken >= this.options.limit) this.close();
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.resolveFull();
  }
}

/** The taps of one process, by point. */
export class RecordTaps {
  private readonly byPoint = new Map<string, Set<TapSession>>();
  private open = 0;

  /**
   * @param points the points this process has (validated when a tap is opened, so a typo is an error, not silence)
   */
  constructor(private readonly points: () => readonly string[]) {}

  knownPoints(): readonly string[] {
    return this.points();
  }

  /** Whether anyone taps `point`: what the pipeline checks before making anything for a tap. */
  active(point: string): boolean {
    return this.byPoint.has(point);
  }

  /** Offers records at `point`; `jsons` is only iterated while some tap there still wants samples. */
  offer(point: string, jsons: Iterable<string>): void {
    const sessions = this.byPoint.get(point);
    if (sessions === undefined) return;
    for (const json of jsons) {
      let wanted = false;
      for (const session of sessions) if (session.take(json)) wanted = true;
      if (!wanted || !this.byPoint.has(point)) return;
    }
  }

  /** Opens a tap; throws a TapRefused naming the problem (unknown point, too many taps, limit out of range). */
  openTap(options: TapOptions): OpenTap {
    const points = this.points();
    if (!points.includes(options.point)) throw new TapRefused(404, `no tap point "${options.point}"; this process has: ${points.join(', ')}`);
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_TAP_LIMIT) {
      throw new TapRefused(400, `limit must be an integer from 1 to ${MAX_TAP_LIMIT}`);
    }
    if (this.open >= MAX_OPEN_TAPS) throw new TapRefused(429, `${MAX_OPEN_TAPS} taps are open already; try again when one ends`);
    this.open++;
    const session = new TapSession(options, (closed) => {
      this.open--;
      const sessions = this.byPoint.get(options.point);
      sessions?.delete(closed);
      if (sessions?.size === 0) this.byPoint.delete(options.point);
    });
    const sessions = this.byPoint.get(options.point) ?? new Set();
    sessions.add(session);
    this.byPoint.set(options.point, sessions);
    return session;
  }
}

/** A tap that cannot be opened, with the HTTP status that says why. */
export class TapRefused extends Error {
  constructor(
    readonly status: 400 | 404 | 429,
    message: string,
  ) {
    super(message);
    this.name = 'TapRefused';
  }
}

/** Splits an NDJSON batch into its lines, lazily, for `offer`. */
export function* ndjsonLines(ndjson: string): Generator<string> {
  let start = 0;
  for (;;) {
    const end = ndjson.indexOf('\n', start);
    if (end === -1) {
      if (start < ndjson.length) yield ndjson.slice(start);
      return;
    }
    yield ndjson.slice(start, end);
    start = end + 1;
  }
}

/** Bytes a tap's response may hold unsent before samples are skipped: a slow reader must not grow our memory. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
const DEFAULT_TAP_LIMIT = 10;
const DEFAULT_TAP_SECONDS = 30;

/**
 * GET /tap?point=<id>&limit=<n>&seconds=<s>: NDJSON, one sampled record per line, ending when `limit` records
 * were sent, after `seconds`, or when the client goes away. Samples that found the response's buffer full are
 * skipped: a reader that cannot keep up gets fewer records, and the process's memory stays bounded.
 */
export function serveTap(taps: RecordTaps, query: URLSearchParams, response: ServerResponse): void {
  const point = query.get('point') ?? '';
  const limit = query.has('limit') ? Number(query.get('limit')) : DEFAULT_TAP_LIMIT;
  const seconds = query.has('seconds') ? Number(query.get('seconds')) : DEFAULT_TAP_SECONDS;
  if (!(seconds > 0 && seconds <= MAX_TAP_SECONDS)) {
    response.writeHead(400, { 'content-type': 'text/plain' }).end(`seconds must be more than 0 and at most ${MAX_TAP_SECONDS}\n`);
    return;
  }
  let tap: OpenTap;
  try {
    tap = taps.openTap({
      point,
      limit,
      onSample: ({ json }) => {
        if (response.writableLength <= MAX_UNSENT_BYTES) response.write(`${json}\n`);
      },
    });
  } catch (error) {
    if (!(error instanceof TapRefused)) throw error;
    response.writeHead(error.status, { 'content-type': 'text/plain' }).end(`${error.message}\n`);
    return;
  }
  response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  // Headers now, so a client sees the tap is open before the first record passes.
  response.flushHeaders();
  const timer = setTimeout(() => tap.close(), seconds * 1000);
  response.on('close', () => tap.close());
  void tap.full.then(() => {
    clearTimeout(timer);
    if (!response.writableEnded && !response.destroyed) response.end();
  });
}
