import { TributaryError, errorMessage } from '../errors.js';
import { explainTlsFailure, tlsErrorCode, type TlsConfigKeys } from '../tls-failures.js';

/**
 * What went wrong with a request sent through ./exchange.ts, so callers branch
 * on a field rather than on message text (the sinks retry all of them; the
 * scrape source words each one the way Prometheus does; WebHDFS needs to know
 * whether the connection was refused, i.e. nothing was sent):
 *
 * - `request`: connecting, TLS, or the connection failing before a response
 * - `timeout`: the whole-request deadline passed (headers or body still due)
 * - `aborted`: the caller's signal aborted (shutdown, or a caller's own deadline)
 * - `read`: the response body failed (reset, corrupt or unsupported encoding)
 * - `too_large`: the body passed its cap ({@link ResponseTooLargeError})
 */
export type HttpFailure = 'request' | 'timeout' | 'aborted' | 'read' | 'too_large';

/** A failed request; `where` is `METHOD url` without credentials. Retriable: none of these says the server refused the request. */
export class HttpRequestError extends TributaryError {
  readonly failure: HttpFailure;
  readonly where: string;
  /** The failure without `where` and its framing (`connect ECONNREFUSED …`, `incorrect header check`), for callers that word their own message. */
  readonly reason: string;
  /** The response's content-encoding when a `read` failed while decoding it. */
  readonly contentEncoding: string | undefined;

  constructor(
    failure: HttpFailure,
    where: string,
    reason: string,
    options: { cause?: unknown; contentEncoding?: string; context?: Record<string, unknown> } = {},
  ) {
    const message = failure === 'read' ? `${where}: reading the response: ${reason}` : `${where}: ${reason}`;
    super(failure === 'aborted' ? 'SHUTDOWN' : 'SINK_UNAVAILABLE', message, {
      retriable: true,
      ...(options.cause !== undefined && { cause: options.cause }),
      context: { failure, ...options.context },
    });
    this.name = 'HttpRequestError';
    this.failure = failure;
    this.where = where;
    this.reason = reason;
    this.contentEncoding = options.contentEncoding;
  }

  /** A failure with a cause of unknown kind (a node:http or zlib error), worded as its message. */
  static from(failure: HttpFailure, where: string, cause: unknown, contentEncoding?: string): HttpRequestError {
    return new HttpRequestError(failure, where, errorMessage(cause), { cause, ...(contentEncoding !== undefined && { contentEncoding }) });
  }
}

/** A response body over its cap: the read stopped there and the connection was closed. Retriable like any failed read. */
export class ResponseTooLargeError extends HttpRequestError {
  readonly maxBytes: number;

  constructor(where: string, maxBytes: number, counted: 'received' | 'decoded') {
    super('too_large', where, `response body larger than the ${maxBytes}-byte cap (${counted}); stopped reading`, { context: { maxBytes, counted } });
    this.name = 'ResponseTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** True when the server refused the connection: the request surely never reached it, so even a write may go elsewhere. */
export function isConnectionRefused(error: unknown): boolean {
  const cause = error instanceof HttpRequestError ? error.cause : error;
  return (cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

/** The keys of the sinks' HTTP config (Elasticsearch, Solr): `endpoints` and `tls`. */
export const HTTP_TLS_KEYS: TlsConfigKeys = { peer: 'the server', tls: 'tls', address: 'endpoints', tlsSwitch: 'the https:// scheme of endpoints' };

/**
 * A request that failed before any response. A TLS handshake failure says what it means and which key to
 * check (shared/tls-failures.ts, the wording Kafka's errors use too), its code in `context.tls_code`.
 */
export function requestError(where: string, cause: unknown, keys: TlsConfigKeys): HttpRequestError {
  const code = tlsErrorCode(cause);
  const explanation = code === undefined ? undefined : explainTlsFailure(code, keys);
  if (explanation === undefined) return HttpRequestError.from('request', where, cause);
  return new HttpRequestError('request', where, `TLS failed: ${explanation} (${code}: ${errorMessage(cause)})`, {
    cause,
    context: { key: keys.tls, tls_code: code },
  });
}
