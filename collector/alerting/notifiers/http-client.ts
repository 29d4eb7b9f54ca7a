import { Agent as HttpAgent } from 'node:http';
import { asText, basicAuthorization, exchange, type TextResponse } from '../../../shared/http/exchange.js';
import { ReloadingHttpsAgent, type TlsReloadSettings } from '../../../shared/http/reloading-tls.js';
import { readSecretFile } from '../../../shared/http/tls.js';
import type { HttpDeliveryConfig } from './config.js';

const USER_AGENT = 'Tributary-Collector/0.1';
/**
 * Receivers answer with a few bytes; a larger answer is cut here (only its start is logged): the rest is not read,
 * the connection is closed instead of drained.
 */
const MAX_RESPONSE_BYTES = 64 * 1024;

export type HttpResponse = TextResponse;

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
  private httpsAgent: ReloadingHttpsAgent | undefined;

  constructor(
    private readonly config: HttpDeliveryConfig,
    private readonly urlCredentials?: { username: string; password: string },
    /** How the TLS files are watched for a rotation (shared/http/reloading-tls.ts). */
    private readonly tlsReload: TlsReloadSettings = {},
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

  /** Reads TLS material and secrets; errors name the file, never its content. The TLS files are re-read when they change. */
  async open(): Promise<void> {
    const sockets = { keepAlive: true, maxSockets: 4 };
    const httpsAgent = await ReloadingHttpsAgent.open(this.config.tls, 'tls', sockets, this.tlsReload);
    try {
      await this.reloadCredentials();
    } catch (error) {
      httpsAgent.close();
      throw error;
    }
    this.httpsAgent?.close();
    this.httpsAgent = httpsAgent;
    this.httpAgent?.destroy();
    this.httpAgent = new HttpAgent(sockets);
  }

  /** Re-reads password_file / bearer_token_file, so a rotated secret is picked up after a 401 without a restart. */
  async reloadCredentials(): Promise<void> {
    const { basic_auth: basic, bearer_token: token, bearer_token_file: tokenFile } = this.config;
    if (basic) {
      const password = basic.password_file === undefined ? (basic.password ?? '') : await readSecretFile(basic.password_file, 'basic_auth.password_file');
      this.authorization = basicAuthorization(basic.username, password);
    } else if (token !== undefined) {
      this.authorization = `Bearer ${token}`;
    } else if (tokenFile !== undefined) {
      this.authorization = `Bearer ${await readSecretFile(tokenFile, 'bearer_token_file')}`;
    } else if (this.urlCredentials) {
      this.authorization = basicAuthorization(this.urlCredentials.username, this.urlCredentials.password);
    }
  }

  /**
   * One request. Resolves with any HTTP response (the caller classifies it);
   * rejects with a retriable SINK_UNAVAILABLE on a connection error or
   * timeout, or SHUTDOWN when `signal` aborts.
   */
  async send(target: Target, method: string, body: string, extraHeaders: Readonly<Record<string, string>>, signal: AbortSignal): Promise<HttpResponse> {
    const where = `${method} ${target.display}`;
    const payload = Buffer.from(body);
    const headers: Record<string, string> = {
      ...extraHeaders,
      'user-agent': USER_AGENT,
      'content-type': 'application/json',
      'content-length': String(payload.length),
    };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    const response = await exchange({
      url: target.url,
      method,
      headers,
      payload,
      agents: { http: this.httpAgent, https: this.httpsAgent?.agent },
      timeoutMs: this.config.timeout,
      where,
      signal,
      maxBodyBytes: MAX_RESPONSE_BYTES,
      overflow: 'truncate',
    });
    return asText(response);
  }

  close(): void {
    this.httpAgent?.destroy();
    this.httpsAgent?.close();
  }
}
