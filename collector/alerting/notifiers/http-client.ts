import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { readSecretFile, tlsAgentOptions } from '../../../shared/http/tls.js';
import type { HttpDeliveryConfig } from './config.js';

const USER_AGENT = 'Tributary-Collector/0.1';
/** Receivers answer with a few bytes; a larger answer is cut here, it is only ever logged. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A receiver URL split into what is sent (`url`, no userinfo) and what is logged (`display`). */
export interface Target {
  readonly url: URL;
  readonly display: string;
}

/**
 * The notifiers' HTTP: keep-alive agents with the configured TLS, a
 * whole-request deadline, and the Authorization header from basic_auth,
 * bearer_token(_file) or the URL's userinfo. Credentials appear nowhere else:
 * targets are logged by `display`.
 */
export class NotifierHttpClient {
  private authorization: string | undefined;
  private httpAgent: HttpAgent | undefined;
  private httpsAgent: HttpsAgent | undefined;

  constructor(
    private readonly config: HttpDeliveryConfig,
    private readonly urlCredentials?: { username: string; password: string },
  ) {}

  /** Splits a configured URL; its userinfo, if any, becomes basic auth (the schema forbids it together with other auth). */
  static target(value: string, path = ''): { target: Target; credentials: { username: string; password: string } | undefined } {
    const url = new URL(value);
    const credentials =
      url.username !== '' || url.password !== '' ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
    url.username = '';
    url.password = '';
    if (path !== '') url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    return { target: { url, display: `${url.protocol}//${url.host}${url.pathname}` }, credentials };
  }

  /** Reads TLS material and secrets; errors name the file, never its content. */
  async open(): Promise<void> {
    const tls = await tlsAgentOptions(this.config.tls);
    await this.reloadCredentials();
    const sockets = { keepAlive: true, maxSockets: 4 };
    this.httpAgent = new HttpAgent(sockets);
    this.httpsAgent = new HttpsAgent({ ...sockets, ...tls });
  }

  /** Re-reads password_file / bearer_token_file, so a rotated secret is picked up after a 401 without a restart. */
  async reloadCredentials(): Promise<void> {
    const { basic_auth: basic, bearer_token: token, bearer_token_file: tokenFile } = this.config;
    if (basic) {
      const password = basic.password_file === undefined ? (basic.password ?? '') : await readSecretFile(basic.password_file, 'basic_auth.password_file');
      this.authorization = `Basic ${Buffer.from(`${basic.username}:${password}`).toString('base64')}`;
    } else if (token !== undefined) {
      this.authorization = `Bearer ${token}`;
    } else if (tokenFile !== undefined) {
      this.authorization = `Bearer ${await readSecretFile(tokenFile, 'bearer_token_file')}`;
    } else if (this.urlCredentials) {
      this.authorization = `Basic ${Buffer.from(`${this.urlCredentials.username}:${this.urlCredentials.password}`).toString('base64')}`;
    }
  }

  /**
   * One request. Resolves with any HTTP response (the caller classifies it);
   * rejects with a retriable SINK_UNAVAILABLE on a connection error or
   * timeout, or SHUTDOWN when `signal` aborts.
   */
  send(target: Target, method: string, body: string, extraHeaders: Readonly<Record<string, string>>, signal: AbortSignal): Promise<HttpResponse> {
    const where = `${method} ${target.display}`;
    if (signal.aborted) return Promise.reject(new TributaryError('SHUTDOWN', `${where}: aborted at shutdown`, { retriable: true }));
    const payload = Buffer.from(body);
    const headers: Record<string, string> = {
      ...extraHeaders,
      'user-agent': USER_AGENT,
      'content-type': 'application/json',
      'content-length': String(payload.length),
    };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    return new Promise<HttpResponse>((resolve, reject) => {
      const https = target.url.protocol === 'https:';
      const options = { method, headers, agent: https ? this.httpsAgent : this.httpAgent };
      const request = https ? httpsRequest(target.url, options) : httpRequest(target.url, options);
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
        finish(new TributaryError('SHUTDOWN', `${where}: aborted at shutdown`, { retriable: true }));
        request.destroy();
      };
      // A whole-request deadline: socket timeouts alone would let a slowly trickling response run forever.
      const timer = setTimeout(() => {
        finish(new TributaryError('SINK_UNAVAILABLE', `${where}: no response within ${this.config.timeout} ms`, { retriable: true }));
        request.destroy();
      }, this.config.timeout);
      signal.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => finish(new TributaryError('SINK_UNAVAILABLE', `${where}: ${errorMessage(error)}`, { cause: error, retriable: true })));
      request.on('response', (message: IncomingMessage) => {
        readBody(message).then(
          (text) => finish(undefined, { status: message.statusCode ?? 0, headers: message.headers, body: text }),
          (error: unknown) =>
            finish(new TributaryError('SINK_UNAVAILABLE', `${where}: reading the response: ${errorMessage(error)}`, { cause: error, retriable: true })),
        );
      });
      request.end(payload);
    });
  }

  close(): void {
    this.httpAgent?.destroy();
    this.httpsAgent?.destroy();
  }
}

async function readBody(message: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of message as AsyncIterable<Buffer>) {
    // Read to the end so the socket can be reused, but keep only the start.
    if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}
