import { z } from 'zod';
import { parseByteSize, parseDuration } from './units.js';

/** A duration written as "500ms", "5s", "1m30s" or a number of milliseconds; parsed to ms. */
export function duration() {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "500ms", "5s" or "1m", got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** A size written as "64KiB", "1MB" or a number of bytes; parsed to bytes. */
export function byteSize() {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a size such as "512KiB", "1MiB" or a number of bytes, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return bytes;
  });
}

/** Telemetry endpoint every process serves: /metrics, /healthz, /readyz. */
export const telemetrySchema = z
  .strictObject({
    listen_address: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(9464),
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .prefault({});

export type TelemetryConfig = z.output<typeof telemetrySchema>;

/**
 * `retry` of an output or notifier: exponential backoff from `initial_backoff` up to `max_backoff`, plus the
 * component's own keys (such as `max_attempts`, whose meaning and default differ per component).
 */
export function retrySchema<const Extra extends z.core.$ZodLooseShape>(defaults: { initial_backoff: number; max_backoff: number }, extra: Extra) {
  return (
    z
      .strictObject({ initial_backoff: duration().default(defaults.initial_backoff), max_backoff: duration().default(defaults.max_backoff), ...extra })
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
