import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { readCappedBody } from './body-reader.js';
import { HttpRequestError, ResponseTooLargeError } from './http-errors.js';
import type { TlsClientOptions } from './tls.js';
import type { TlsFailureKeys } from '../tls-failures.js';

export { HttpRequestError, ResponseTooLargeError };

/**
 * The one HTTP request of Tributary, on Node's http/https, under every HTTP
 * client: the sinks' transport (./http-transport.ts), the alert notifiers,
 * WebHDFS and the Prometheus scrape. node:http rather than fetch: per-client
 * CAs, client certificates and `servername` need an https Agent's options,
 * which Node 20's fetch does not take, and WebHDFS datanodes send an
 * unsolicited `100 Continue` that undici rejects.
 *
 * What every caller gets: a whole-request deadline (headers and body: socket
 * timeouts alone would let a trickling response run forever), the caller's
 * AbortSignal, a body read through ./body-reader.ts (streamed, decoded,
 * capped), and failures as one typed, retriable {@link HttpRequestError} that
 * names the request (`where`) but never its credentials. What each caller
 * keeps: its headers, auth, endpoint choice and what a status means.
 */

export interface HttpResponse {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: IncomingHttpHeaders;
  /** Decoded from its content-encoding; empty when `readBody` declined the status. */
  readonly body: Buffer;
}

/** A response whose body is UTF-8 text (the JSON answers of the sinks and notifiers). */
export interface TextResponse extends Omit<HttpResponse, 'body'> {
  readonly body: string;
}

/** Keep-alive agents to pool sockets in, by scheme; a scheme without one gets a connection of its own per request. */
export interface HttpAgents {
  readonly http?: HttpAgent | undefined;
  readonly https?: HttpsAgent | undefined;
}

export interface Exchange {
  readonly url: URL;
  readonly method: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent whole; `content-length` is set from it unless the headers have one. */
  readonly payload?: Buffer | undefined;
  readonly agents?: HttpAgents | undefined;
  /** TLS for a request without an https agent (an agent carries its own). */
  readonly tls?: TlsClientOptions | undefined;
  /** The config keys a TLS failure's message names (default: `tls.*` and `the URL`). */
  readonly tlsKeys?: TlsFailureKeys | undefined;
  /** Milliseconds for the whole request, body included. */
  readonly timeoutMs: number;
  /** `METHOD url` without userinfo (nor a secret query), for errors. */
  readonly where: string;
  readonly signal?: AbortSignal | undefined;
  /** The most body bytes received or decoded (Infinity: no cap, for a caller configured so). */
  readonly maxBodyBytes: number;
  /** `fail` (default): a body over the cap rejects with ResponseTooLargeError; `truncate`: its start is the body. */
  readonly overflow?: 'fail' | 'truncate';
  /** Sees the body's decoded chunks as they arrive (a streamed response); the body is still kept and capped. */
  readonly onBodyChunk?: ((chunk: Buffer, status: number) => void) | undefined;
  /** Whether a response with this status is worth reading; when not, its connection is closed unread. Default: every status. */
  readonly readBody?: (status: number) => boolean;
}

/**
 * Resolves with any HTTP response (the caller classifies the status); rejects
 * with an HttpRequestError: `request`, `timeout`, `read`, `too_large` (all
 * SINK_UNAVAILABLE) or `aborted` (SHUTDOWN) when `signal` aborts.
 */
export function exchange(options: Exchange): Promise<HttpResponse> {
  const { url, method, where, signal, timeoutMs } = options;
  if (signal?.aborted) return Promise.reject(abortedError(where));
  return new Promise<HttpResponse>((resolve, reject) => {
    const https = url.protocol === 'https:';
    const headers: Record<string, string> = { ...options.headers };
    const payload = options.payload;
    if (payload !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(payload.length);
    }
    // No agent: `agent: false` (a connection of its own, closed after), not the global agent, which keeps sockets alive.
    const agent = (https ? options.agents?.https : options.agents?.http) ?? false;
    const requestOptions = { method, headers, agent };
    const request = https ? httpsRequest(url, { ...requestOptions, ...options.tls }) : httpRequest(url, requestOptions);
    let settled = false;
    const finish = (error: Error | undefined, response?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (response) resolve(response);
      else reject(error ?? new Error('no response'));
    };
    const onAbort = (): void => {
      finish(abortedError(where));
      request.destroy();
    };
    const timer = setTimeout(() => {
      finish(new HttpRequestError('timeout', where, `no response within ${timeoutMs} ms`, { context: { timeoutMs } }));
      request.destroy();
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => finish(HttpRequestError.fromRequest(where, error, options.tlsKeys)));
    request.on('response', (message: IncomingMessage) => {
      const status = message.statusCode ?? 0;
      const head = { status, statusMessage: message.statusMessage ?? '', headers: message.headers };
      if (options.readBody !== undefined && !options.readBody(status)) {
        message.destroy();
        finish(undefined, { ...head, body: Buffer.alloc(0) });
        return;
      }
      const { onBodyChunk } = options;
      const onChunk = onBodyChunk === undefined ? undefined : (chunk: Buffer) => onBodyChunk(chunk, status);
      readCappedBody(message, { maxBytes: options.maxBodyBytes, overflow: options.overflow ?? 'fail', where, onChunk }).then(
        (body) => finish(undefined, { ...head, body }),
        (error: unknown) => finish(error instanceof HttpRequestError ? error : HttpRequestError.from('read', where, error)),
      );
    });
    request.end(payload);
  });
}

/** {@link HttpResponse} with its body as UTF-8 text. */
export function asText(response: HttpResponse): TextResponse {
  return { ...response, body: response.body.toString('utf8') };
}

function abortedError(where: string): HttpRequestError {
  return new HttpRequestError('aborted', where, 'aborted at shutdown');
}

/** The `Authorization` value for HTTP basic auth. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
