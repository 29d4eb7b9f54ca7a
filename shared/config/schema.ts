import { z } from 'zod';
import { parseByteSize, parseDuration } from './units.js';

/**
 * Node runs a timer of 2^31 ms or more after 1 ms (with only a warning): `request_timeout: 30d` failed every
 * request after 5 ms. Every duration is bounded by this unless its key says otherwise, and a key that is not
 * used as a timer (an age, a window) states its own larger `max`.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Sizes are byte counts held in memory or on disk; 1 TiB is more than any key here needs. */
export const MAX_BYTE_SIZE = 2 ** 40;

export interface UnitBounds {
  /** Smallest accepted value (ms or bytes); default 0. Set 1 (or more) where zero would break the component. */
  readonly min?: number;
  /** Largest accepted value; default MAX_TIMER_MS for durations, MAX_BYTE_SIZE for sizes. */
  readonly max?: number;
}

const DURATION_NAMES: ReadonlyArray<[number, string]> = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1000, 's'],
  [1, 'ms'],
];
const SIZE_NAMES: ReadonlyArray<[number, string]> = [
  [1024 ** 4, 'TiB'],
  [1024 ** 3, 'GiB'],
  [1024 ** 2, 'MiB'],
  [1024, 'KiB'],
  [1, 'B'],
];

/** A bound as a person writes it: 2147483647 ms → "24d20h31m23s647ms". */
function human(value: number, names: ReadonlyArray<[number, string]>): string {
  if (value === 0) return `0${names[names.length - 1]?.[1] ?? ''}`;
  let rest = value;
  let out = '';
  for (const [size, name] of names) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${name}`;
    rest -= count * size;
  }
  return out;
}

/**
 * One bounded unit value. Messages name the expected form and range, never the value written: a brace or
 * indentation mistake can move a secret into any key.
 */
function boundedUnit(
  what: string,
  example: string,
  parse: (value: string | number) => number | undefined,
  names: ReadonlyArray<[number, string]>,
  min: number,
  max: number,
) {
  const range = `from ${human(min, names)} to ${human(max, names)}`;
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const parsed = parse(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${what} such as ${example}, ${range}` });
      return z.NEVER;
    }
    if (parsed < min || parsed > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${what} ${range}` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** A duration written as "500ms", "5s", "1m30s" or a number of milliseconds; parsed to ms and bounded. */
export function duration(bounds: UnitBounds = {}) {
  return boundedUnit('a duration', '"500ms", "5s" or "1m"', parseDuration, DURATION_NAMES, bounds.min ?? 0, bounds.max ?? MAX_TIMER_MS);
}

/** A size written as "64KiB", "1MB" or a number of bytes; parsed to bytes and bounded. */
export function byteSize(bounds: UnitBounds = {}) {
  return boundedUnit('a size', '"512KiB", "1MiB" or a number of bytes', parseByteSize, SIZE_NAMES, bounds.min ?? 0, bounds.max ?? MAX_BYTE_SIZE);
}

/**
 * `telemetry.tls`: the telemetry endpoint serves https. Both files are required (a key without its certificate
 * cannot serve anything), and they are re-read when they change, so a renewed certificate needs no restart.
 */
export const telemetryTlsSchema = z.strictObject({
  cert_file: z.string().min(1),
  key_file: z.string().min(1),
  /** Clients must present a certificate signed by this CA (mutual TLS); without it any client may connect. */
  client_ca_file: z.string().min(1).optional(),
});

export type TelemetryTlsConfig = z.output<typeof telemetryTlsSchema>;

/**
 * `telemetry.auth`: credentials a scraper must send, spelled as the notifiers' (and Prometheus') keys are. Exactly
 * one of `basic_auth`, `bearer_token` or `bearer_token_file`; `*_file` secrets are re-read when they change.
 */
export const telemetryAuthSchema = z
  .strictObject({
    basic_auth: z
      .strictObject({
        username: z.string().min(1),
        password: z.string().min(1).optional(),
        password_file: z.string().min(1).optional(),
      })
      .refine((basic) => (basic.password === undefined) !== (basic.password_file === undefined), {
        message: 'set exactly one of password or password_file',
      })
      .optional(),
    bearer_token: z.string().min(1).optional(),
    bearer_token_file: z.string().min(1).optional(),
    /**
     * Whether /healthz and /readyz need the credentials too. Off by default: Kubernetes probes cannot send
     * them, and the probes show only states and component errors, never metrics.
     */
    probes: z.boolean().default(false),
  })
  .superRefine((auth, ctx) => {
    const set = [auth.basic_auth, auth.bearer_token, auth.bearer_token_file].filter((value) => value !== undefined).length;
    if (set !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of basic_auth, bearer_token or bearer_token_file' });
  });

export type TelemetryAuthConfig = z.output<typeof telemetryAuthSchema>;

/** Telemetry endpoint every process serves: /metrics, /healthz, /readyz, /status (and /tap when enabled). */
export const telemetrySchema = z
  .strictObject({
    listen_address: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(9464),
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    tls: telemetryTlsSchema.optional(),
    auth: telemetryAuthSchema.optional(),
    /**
     * Serve /tap (`tributary tap`): samples of the records passing a point. Off by default because records may
     * hold what only their destinations should see; behind `auth` like /metrics when on.
     */
    tap: z.boolean().default(false),
  })
  .prefault({});

export type TelemetryConfig = z.output<typeof telemetrySchema>;

/**
 * `retry` of an output or notifier: exponential backoff from `initial_backoff` up to `max_backoff`, plus the
 * component's own keys (such as `max_attempts`: total tries, the first included, everywhere; only its default differs).
 */
export function retrySchema<const Extra extends z.core.$ZodLooseShape>(defaults: { initial_backoff: number; max_backoff: number }, extra: Extra) {
  return (
    z
      .strictObject({
        initial_backoff: duration({ min: 1 }).default(defaults.initial_backoff),
        max_backoff: duration({ min: 1 }).default(defaults.max_backoff),
        ...extra,
      })
      // `{}` is a valid input (every key has a default or is optional), which zod cannot see through the generic shape.
      .prefault({} as never)
      .refine(
        (retry) => {
          // zod cannot resolve the output of a shape that is still generic; both keys are the durations above.
          const { initial_backoff: initial, max_backoff: max } = retry as { initial_backoff: number; max_backoff: number };
          return initial <= max;
        },
        { message: 'initial_backoff must not exceed max_backoff', path: ['initial_backoff'] },
      )
  );
}
