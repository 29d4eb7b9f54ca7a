import { z } from 'zod';
import { byteSize } from '../config/schema.js';

/**
 * Config pieces the HTTP sinks (Elasticsearch, Solr) and notifiers share, so URLs and
 * credentials are validated alike and errors read alike. TLS is ./tls.ts.
 */

/** An http(s) URL, optionally with a path prefix and `user:password@`; `example` goes into the message. */
export function httpEndpointSchema(example: string) {
  return httpUrlSchema(example, { query: false });
}

/**
 * An http(s) URL, optionally with `user:password@`; never a fragment. `query: true` for a URL used as it is (a
 * webhook's); a base URL that paths are appended to (an endpoint's) has none.
 */
export function httpUrlSchema(example: string, options: { query: boolean }) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      // The value may hold credentials, so the message does not repeat it.
      ctx.addIssue({ code: 'custom', message: `expected a URL such as ${example}` });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `expected http or https, got ${url.protocol}` });
    if (!options.query && (url.search !== '' || url.hash !== '')) ctx.addIssue({ code: 'custom', message: 'an endpoint has no query or fragment' });
    else if (url.hash !== '') ctx.addIssue({ code: 'custom', message: 'a URL here has no fragment' });
  });
}

/** HTTP basic auth: a password inline (from `${ENV}` interpolation) or a mounted secret file, re-read after a 401. */
export const basicAuthSchema = z
  .strictObject({
    username: z.string().min(1),
    password: z.string().optional(),
    /** A mounted secret; re-read when the server answers 401, so a rotated password is picked up. */
    password_file: z.string().min(1).optional(),
  })
  .refine((basic) => (basic.password === undefined) !== (basic.password_file === undefined), {
    message: 'set exactly one of password or password_file',
  });

/**
 * Checks across keys, for a superRefine: credentials in an endpoint URL exclude `auth`, and `tls` needs at
 * least one https endpoint (else it would silently do nothing).
 */
export function checkEndpointsAuthTls(config: { endpoints: readonly string[]; auth?: unknown; tls?: unknown }, ctx: z.RefinementCtx): void {
  config.endpoints.forEach((value, position) => {
    if (!URL.canParse(value)) return;
    const url = new URL(value);
    if ((url.username !== '' || url.password !== '') && config.auth !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['endpoints', position], message: 'credentials in the URL and auth are mutually exclusive' });
    }
  });
  if (config.tls !== undefined && !config.endpoints.some((value) => value.startsWith('https:'))) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls is set but no endpoint uses https' });
  }
}

/** How a write is split into requests: at most this many (uncompressed) bytes and documents each. */
export function requestBatchSchema(defaultMaxEvents: number) {
  return z
    .strictObject({
      max_bytes: byteSize({ min: 1 })
        .default(5 * 1024 * 1024)
        .pipe(z.number().int().min(1024, 'at least 1KiB')),
      max_events: z.number().int().min(1).default(defaultMaxEvents),
    })
    .prefault({});
}
