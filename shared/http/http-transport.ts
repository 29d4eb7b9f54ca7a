import { Agent as HttpAgent } from 'node:http';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { TributaryError, errorMessage } from '../errors.js';
import { asText, basicAuthorization, exchange, type TextResponse } from './exchange.js';
import { ReloadingHttpsAgent, type TlsReloadSettings } from './reloading-tls.js';
import { readSecretFile, type HttpTlsConfig } from './tls.js';
import type { TlsFailureKeys } from '../tls-failures.js';

export type { TextResponse };

const gzip = promisify(gzipCallback);
const USER_AGENT = 'Tributary-Collector/0.1';
/**
 * A response larger than this (received, or decoded from gzip) is not read into memory: bulk responses are
 * filtered to a few bytes per item, so a real one is far smaller.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * HTTP for the sinks that talk to HTTP servers (Elasticsearch/OpenSearch
 * `_bulk`, Solr's update handler), on Node's http/https rather than a client
 * library: `@elastic/elasticsearch` refuses OpenSearch, SolrJ is Java, and what
 * is needed (keep-alive pools, a CA, a client certificate, `servername`, gzip
 * bodies, failover between endpoints) is a few options of node's Agent.
 * Credentials never leave this module except in the Authorization header:
 * endpoints are logged as `display` (no userinfo).
 */

/** The part of a sink's config this transport reads (the schemas in ./config.ts produce it). */
export interface HttpTransportConfig {
  /** URLs, optionally with a path prefix and `user:password@`. */
  readonly endpoints: readonly string[];
  readonly auth?:
    | {
        readonly basic?: { readonly username: string; readonly password?: string | undefined; readonly password_file?: string | undefined } | undefined;
        readonly api_key?: string | undefined;
        readonly api_key_file?: string | undefined;
      }
    | undefined;
  readonly tls?: HttpTlsConfig | undefined;
  /** Sockets kept per endpoint. */
  readonly max_concurrent_requests: number;
  /** Whether bodies of requests marked `compress` are gzipped. */
  readonly compression: 'gzip' | 'none';
  /** Milliseconds for a whole request. */
  readonly request_timeout: number;
}

export interface Endpoint {
  /** scheme://host:port/prefix, without credentials: the form logs and errors use. */
  readonly display: string;
  readonly url: URL;
  /** Path prefix without a trailing slash (an Elasticsearch behind a proxy at /es). */
  readonly prefix: string;
  /** Consecutive failures, and until when the endpoint is skipped. */
  failures: number;
  downUntil: number;
}

export interface HttpRequest {
  readonly method: 'GET' | 'PUT' | 'POST';
  /** Path and query relative to the endpoint, starting with `/`. */
  readonly path: string;
  readonly body?: string;
  readonly contentType?: string;
  /** Compress the body (per config) and say so in `content-encoding`. */
  readonly compress?: boolean;
}

export interface SentRequest {
  readonly response: TextResponse;
  /** Bytes written on the wire (after compression) and before. */
  readonly wireBytes: number;
  readonly rawBytes: number;
}

function parseEndpoint(value: string): { endpoint: Endpoint; username: string; password: string } {
  const url = new URL(value);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const prefix = url.pathname.replace(/\/+$/, '');
  return { endpoint: { display: `${url.protocol}//${url.host}${prefix}`, url, prefix, failures: 0, downUntil: 0 }, username, password };
}

export class HttpTransport {
  readonly endpoints: readonly Endpoint[];
  private readonly urlCredentials: { username: string; password: string } | undefined;
  private authorization: string | undefined;
  private httpAgent: HttpAgent | undefined;
  private httpsAgent: ReloadingHttpsAgent | undefined;
  private next = 0;
  private readonly tlsKeys: TlsFailureKeys;

  /**
   * `configKey`: where the sink's config sits (`outputs.solr`), so TLS failures name the full key to check.
   * `tlsReload`: how the TLS files are watched for a rotation (./reloading-tls.ts).
   */
  constructor(
    private readonly config: HttpTransportConfig,
    private readonly now: () => number = Date.now,
    configKey?: string,
    private readonly tlsReload: TlsReloadSettings = {},
  ) {
    const parsed = config.endpoints.map(parseEndpoint);
    this.endpoints = parsed.map(({ endpoint }) => endpoint);
    const withCredentials = parsed.find(({ username, password }) => username !== '' || password !== '');
    this.urlCredentials = withCredentials && { username: withCredentials.username, password: withCredentials.password };
    const key = (name: string) => (configKey === undefined ? name : `${configKey}.${name}`);
    this.tlsKeys = { peer: 'server', tls: key('tls'), address: key('endpoints'), notTls: `check that the https URLs in ${key('endpoints')} name TLS ports` };
  }

  /**
   * Reads TLS material and secrets and creates the keep-alive agents; errors name the file, never its content.
   * From then on the TLS files are re-read when they change: new connections use them.
   */
  async open(): Promise<void> {
    // One socket per concurrent request per endpoint, kept open between bulks.
    const sockets = { keepAlive: true, maxSockets: this.config.max_concurrent_requests, scheduling: 'lifo' as const };
    const httpsAgent = await ReloadingHttpsAgent.open(this.config.tls, this.tlsKeys.tls, sockets, this.tlsReload);
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

  /** Re-reads password_file / api_key_file: called after a 401 so a rotated secret is picked up without a restart. */
  async reloadCredentials(): Promise<void> {
    const auth = this.config.auth;
    if (auth?.basic) {
      const password =
        auth.basic.password_file === undefined ? (auth.basic.password ?? '') : await readSecretFile(auth.basic.password_file, 'auth.basic.password_file');
      this.authorization = basicAuthorization(auth.basic.username, password);
    } else if (auth?.api_key !== undefined || auth?.api_key_file !== undefined) {
      const key = auth.api_key ?? (await readSecretFile(auth.api_key_file as string, 'auth.api_key_file'));
      // `id:api_key` as shown by the create-API-key response, or its base64 `encoded` form.
      this.authorization = `ApiKey ${key.includes(':') ? Buffer.from(key).toString('base64') : key}`;
    } else if (this.urlCredentials) {
      this.authorization = basicAuthorization(this.urlCredentials.username, this.urlCredentials.password);
    }
  }

  /**
   * The next endpoint round-robin, skipping those that failed recently; when
   * all did, the one that comes back first. `exclude` lets a request fail over
   * to an endpoint it has not tried yet.
   */
  pick(exclude: ReadonlySet<Endpoint> = new Set()): Endpoint | undefined {
    const now = this.now();
    const count = this.endpoints.length;
    let fallback: Endpoint | undefined;
    for (let i = 0; i < count; i++) {
      const endpoint = this.endpoints[(this.next + i) % count] as Endpoint;
      if (exclude.has(endpoint)) continue;
      if (endpoint.downUntil <= now) {
        this.next = (this.next + i + 1) % count;
        return endpoint;
      }
      if (!fallback || endpoint.downUntil < fallback.downUntil) fallback = endpoint;
    }
    return fallback;
  }

  /** Marks an endpoint failed: skipped for an exponentially growing while (1s … 30s). */
  markDown(endpoint: Endpoint): void {
    endpoint.failures++;
    endpoint.downUntil = this.now() + Math.min(30_000, 1_000 * 2 ** Math.min(endpoint.failures - 1, 5));
  }

  markUp(endpoint: Endpoint): void {
    endpoint.failures = 0;
    endpoint.downUntil = 0;
  }

  /**
   * One request with failover: a connection error or a 5xx moves on to the
   * next endpoint not tried yet (`onFailover` says so); when every endpoint
   * failed, the last error (or 5xx response) is the caller's to back off
   * from. A 401 re-reads the credential files for the next attempt.
   */
  async sendWithFailover(
    request: HttpRequest,
    signal: AbortSignal,
    onFailover: (endpoint: Endpoint, reason: string) => void = () => undefined,
  ): Promise<SentRequest & { endpoint: Endpoint }> {
    const tried = new Set<Endpoint>();
    for (;;) {
      const endpoint = this.pick(tried);
      if (endpoint === undefined) throw new TributaryError('INTERNAL', 'no endpoint to try');
      tried.add(endpoint);
      const last = tried.size >= this.endpoints.length;
      let sent: SentRequest;
      try {
        sent = await this.send(endpoint, request, signal);
      } catch (error) {
        if (error instanceof TributaryError && error.code === 'SHUTDOWN') throw error;
        this.markDown(endpoint);
        if (last) throw error;
        onFailover(endpoint, errorMessage(error));
        continue;
      }
      if (sent.response.status >= 500) {
        this.markDown(endpoint);
        if (!last) {
          onFailover(endpoint, `HTTP ${sent.response.status}`);
          continue;
        }
      } else {
        this.markUp(endpoint);
      }
      if (sent.response.status === 401) await this.reloadCredentials().catch(() => undefined);
      return { ...sent, endpoint };
    }
  }

  /**
   * One request through ./exchange.ts. Resolves with any HTTP response (the
   * caller classifies the status); rejects with a retriable SINK_UNAVAILABLE
   * for a connection error, a timeout or a body over MAX_RESPONSE_BYTES, or
   * with SHUTDOWN when `signal` aborts.
   */
  async send(endpoint: Endpoint, request: HttpRequest, signal: AbortSignal): Promise<SentRequest> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json', 'accept-encoding': 'gzip' };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    let payload: Buffer | undefined;
    const raw = request.body === undefined ? undefined : Buffer.from(request.body);
    if (raw) {
      payload = raw;
      headers['content-type'] = request.contentType ?? 'application/json';
      if (request.compress && this.config.compression === 'gzip') {
        payload = await gzip(raw);
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = String(payload.length);
    }
    const url = new URL(`${endpoint.prefix}${request.path}`, endpoint.url);
    const response = await exchange({
      url,
      method: request.method,
      headers,
      payload,
      agents: { http: this.httpAgent, https: this.httpsAgent?.agent },
      timeoutMs: this.config.request_timeout,
      // The path holds the endpoint's prefix already: scheme and host from the endpoint, never its credentials.
      where: `${request.method} ${endpoint.url.protocol}//${endpoint.url.host}${url.pathname}`,
      tlsKeys: this.tlsKeys,
      signal,
      maxBodyBytes: MAX_RESPONSE_BYTES,
    });
    return { response: asText(response), wireBytes: payload?.length ?? 0, rawBytes: raw?.length ?? 0 };
  }

  close(): void {
    this.httpAgent?.destroy();
    this.httpsAgent?.close();
  }
}
