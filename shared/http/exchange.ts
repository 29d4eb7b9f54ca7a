import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { TributaryError, errorMessage } from '../errors.js';
import { ResponseTooLargeError } from './body-reader.js';

/**
 * One HTTP request on Node's http/https, as every Tributary HTTP client sends
 * it (the sinks' transport, the alert notifiers): a whole-request deadline,
 * shutdown through an AbortSignal, and failures as retriable errors that name
 * the request (`where`) but never its credentials. How much of the body is
 * read is the caller's choice, always through ./body-reader.ts (streamed and
 * capped): the sinks need all of it, the notifiers only log its start.
 */

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Exchange {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Buffer | undefined;
  readonly agent: { http: HttpAgent | undefined; https: HttpsAgent | undefined };
  readonly timeoutMs: number;
  /** `METHOD url` without userinfo, for errors. */
  readonly where: string;
  readonly signal: AbortSignal;
  /** Reads the body with ./body-reader.ts; `where` names the request in its errors. */
  readonly readBody: (message: IncomingMessage, where: string) => Promise<string>;
}

/**
 * Resolves with any HTTP response (the caller classifies the status); rejects
 * with a retriable SINK_UNAVAILABLE for a connection error, a timeout or a
 * failed read, or with SHUTDOWN when `signal` aborts.
 */
export function exchange(options: Exchange): Promise<HttpResponse> {
  const { url, method, where, signal, timeoutMs } = options;
  if (signal.aborted) return Promise.reject(shutdownError(where));
  return new Promise<HttpResponse>((resolve, reject) => {
    const https = url.protocol === 'https:';
    const requestOptions = { method, headers: options.headers, agent: https ? options.agent.https : options.agent.http };
    const request = https ? httpsRequest(url, requestOptions) : httpRequest(url, requestOptions);
    let settled = false;
    const finish = (error: Error | undefined, response?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (response) resolve(response);
      else reject(error ?? new Error('no response'));
    };
    const onAbort = (): void => {
      finish(shutdownError(where));
      request.destroy();
    };
    // A whole-request deadline: socket timeouts alone would let a slowly trickling response run forever.
    const timer = setTimeout(() => {
      finish(new TributaryError('SINK_UNAVAILABLE', `${where}: no response within ${timeoutMs} ms`, { retriable: true }));
      request.destroy();
    }, timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => {
      finish(new TributaryError('SINK_UNAVAILABLE', `${where}: ${errorMessage(error)}`, { cause: error, retriable: true }));
    });
    request.on('response', (message: IncomingMessage) => {
      options.readBody(message, where).then(
        (body) => finish(undefined, { status: message.statusCode ?? 0, headers: message.headers, body }),
        (error: unknown) =>
          finish(
            // The cap's error already names the request and the cap; callers may branch on its type.
            error instanceof ResponseTooLargeError
              ? error
              : new TributaryError('SINK_UNAVAILABLE', `${where}: reading the response: ${errorMessage(error)}`, { cause: error, retriable: true }),
          ),
      );
    });
    request.end(options.payload);
  });
}

function shutdownError(where: string): TributaryError {
  return new TributaryError('SHUTDOWN', `${where}: aborted at shutdown`, { retriable: true });
}

/** The `Authorization` value for HTTP basic auth. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
