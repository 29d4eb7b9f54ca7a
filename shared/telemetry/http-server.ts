import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { Registry } from 'prom-client';
import type { TelemetryAuthConfig, TelemetryTlsConfig } from '../config/schema.js';
import { TributaryError, errorMessage } from '../errors.js';
import { fileVersion, filesVersion, watchFileReload } from '../file-reload.js';
import { readCertificateFile, readSecretFile } from '../secret-files.js';
import type { Logger } from './logger.js';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.js';
import { serveTap, type RecordTaps } from './record-tap.js';
import type { ProcessStatus } from './status.js';

export interface HealthState {
  /** The process is running its loops (liveness). */
  live(): boolean;
  /** The process is connected and doing its job (readiness); false while starting and draining. */
  ready(): boolean;
  /** Lines naming what is wrong (failed components), shown by /healthz and /readyz. */
  problems?(): string[];
}

export interface TelemetryServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export interface TelemetryServerOptions {
  /** `telemetry.listen_address` and `port`; port 0 picks a free one. */
  listen_address: string;
  port: number;
  /** `telemetry.tls`: serve https. */
  tls?: TelemetryTlsConfig | undefined;
  /** `telemetry.auth`: credentials required on /metrics (and the probes with `probes: true`). */
  auth?: TelemetryAuthConfig | undefined;
  /** Where a certificate that changed but cannot be loaded is reported (the old one stays in use). */
  logger?: Logger | undefined;
  /** How often the certificate files are checked for changes; tests shorten it. */
  tlsReloadIntervalMs?: number | undefined;
  /** `telemetry.tap`: serve /tap from the process's `taps`. */
  tap?: boolean | undefined;
}

/** What a process offers beyond metrics and probes. */
export interface ProcessEndpoints {
  /** The status document behind /status and /status.json. */
  status?: () => Promise<ProcessStatus>;
  /** The tap points behind /tap (served only with `telemetry.tap`). */
  taps?: RecordTaps;
}

/**
 * A secret read from a file and read again whenever the file changes, so a rotated password or token works
 * without a restart. Checked on each use with one stat: scrapes are seconds apart.
 */
class RotatingSecret {
  private version = '';
  private value = '';

  constructor(
    private readonly path: string,
    private readonly key: string,
  ) {}

  async current(): Promise<string> {
    // Reading is what reports a missing file, with the key and path in the message.
    const version = await fileVersion(this.path).catch(() => undefined);
    if (version === undefined) return readSecretFile(this.path, this.key).then((value) => this.checked(value));
    if (version !== this.version) {
      this.value = this.checked(await readSecretFile(this.path, this.key));
      this.version = version;
    }
    return this.value;
  }

  /** An empty file (a secret mounted before it was filled) would let an empty password in. */
  private checked(value: string): string {
    if (value === '') throw new TributaryError('CONFIG_UNREADABLE', `${this.key} ${this.path} is empty`);
    return value;
  }
}

const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();

/** Equal in time independent of where the values differ or of their lengths (both are hashed first). */
function sameSecret(given: string | Buffer, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

type Authenticator = (request: IncomingMessage) => Promise<boolean>;

/** Checks the `Authorization` header against `auth`; a `*_file` secret that cannot be read throws (the caller answers 503). */
function authenticator(auth: TelemetryAuthConfig): { check: Authenticator; challenge: string; prime: () => Promise<unknown> } {
  const fixed = (value: string) => ({ current: () => Promise.resolve(value) });
  if (auth.basic_auth) {
    const { username, password, password_file } = auth.basic_auth;
    const secret = password_file !== undefined ? new RotatingSecret(password_file, 'telemetry.auth.basic_auth.password_file') : fixed(password ?? '');
    return {
      challenge: 'Basic realm="tributary", charset="UTF-8"',
      prime: () => secret.current(),
      check: async (request) => {
        const match = /^basic +(\S+)$/i.exec(request.headers.authorization ?? '');
        if (!match?.[1]) return false;
        const decoded = Buffer.from(match[1], 'base64');
        const colon = decoded.indexOf(0x3a);
        if (colon < 0) return false;
        const expected = await secret.current();
        // Both compared, whichever differs, so the time does not tell a right username from a wrong one.
        const userOk = sameSecret(decoded.subarray(0, colon), username);
        const passwordOk = sameSecret(decoded.subarray(colon + 1), expected);
        return userOk && passwordOk;
      },
    };
  }
  const secret =
    auth.bearer_token_file !== undefined ? new RotatingSecret(auth.bearer_token_file, 'telemetry.auth.bearer_token_file') : fixed(auth.bearer_token ?? '');
  return {
    challenge: 'Bearer realm="tributary"',
    prime: () => secret.current(),
    check: async (request) => {
      const match = /^bearer +(\S+)$/i.exec(request.headers.authorization ?? '');
      if (!match?.[1]) return false;
      return sameSecret(match[1], await secret.current());
    },
  };
}

/** The certificate, key and client CA as TLS options; errors name the key and path, never the content. */
async function readTlsContext(tls: TelemetryTlsConfig): Promise<SecureContextOptions> {
  const [cert, key, ca] = await Promise.all([
    readCertificateFile(tls.cert_file, 'telemetry.tls.cert_file'),
    readCertificateFile(tls.key_file, 'telemetry.tls.key_file'),
    tls.client_ca_file === undefined ? undefined : readCertificateFile(tls.client_ca_file, 'telemetry.tls.client_ca_file'),
  ]);
  return { cert, key, ...(ca && { ca }) };
}

function tlsPaths(tls: TelemetryTlsConfig): string[] {
  return [tls.cert_file, tls.key_file, ...(tls.client_ca_file === undefined ? [] : [tls.client_ca_file])];
}

/**
 * Re-reads the certificate files when they change and swaps them in for new connections. A half-done renewal
 * (a new certificate beside the old key) fails to load: the old pair stays in use and the next check retries.
 */
function watchCertificates(server: HttpsServer, tls: TelemetryTlsConfig, initialVersion: string, intervalMs: number, logger: Logger | undefined): () => void {
  return watchFileReload({
    paths: tlsPaths(tls),
    initialVersion,
    intervalMs,
    load: () => readTlsContext(tls),
    // setSecureContext is what rejects a certificate beside a key it does not match.
    apply: (context) => server.setSecureContext(context),
    onReloaded: () => logger?.info({ cert_file: tls.cert_file }, 'telemetry TLS certificate reloaded'),
    onFailed: (message) =>
      logger?.warn({ cert_file: tls.cert_file, err: message }, 'telemetry TLS certificate changed but cannot be loaded; keeping the previous one'),
  });
}

/**
 * Serves /metrics (Prometheus text), /healthz and /readyz, and with `status` the status page (/status) and its
 * data (/status.json), over https with `tls` and behind credentials with `auth`. With `auth`, every path needs
 * them except /healthz and /readyz (unless `auth.probes`): the status page shows paths and offsets.
 */
export async function startTelemetryServer(
  options: TelemetryServerOptions,
  registry: Registry,
  health: HealthState,
  endpoints: ProcessEndpoints = {},
): Promise<TelemetryServer> {
  const { status, taps } = endpoints;
  const { listen_address: host, port } = options;
  const auth = options.auth === undefined ? undefined : authenticator(options.auth);
  // A missing or unreadable secret file fails the start, as other configuration mistakes do.
  await auth?.prime();
  const probesOpen = options.auth?.probes !== true;

  const serve = (path: string, response: ServerResponse, query: URLSearchParams): void => {
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? health.live() : health.ready();
      // A failed component does not fail liveness (restarting the process would not help the other sources), only readiness.
      const problems = health.problems?.() ?? [];
      const status = ok ? 'ok' : path === '/healthz' ? 'not live' : 'not ready';
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end([status, ...problems].join('\n') + '\n');
      return;
    }
    if (status !== undefined && path === '/status.json') {
      status().then(
        (document) => response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(document)),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${errorMessage(error)}\n`),
      );
      return;
    }
    if (status !== undefined && (path === '/status' || path === '/')) {
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': STATUS_PAGE_CSP, 'x-content-type-options': 'nosniff' })
        .end(STATUS_PAGE_HTML);
      return;
    }
    if (path === '/tap' && taps !== undefined) {
      if (options.tap === true) serveTap(taps, query, response);
      else response.writeHead(404, { 'content-type': 'text/plain' }).end('tap is off: set telemetry.tap: true to sample records here\n');
      return;
    }
    const paths = status === undefined ? '/metrics, /healthz or /readyz' : '/status, /status.json, /metrics, /healthz or /readyz';
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${paths}\n`);
  };

  const handler: RequestListener = (request, response) => {
    const [path = '/', query = ''] = (request.url ?? '/').split('?', 2);
    const url = { searchParams: new URLSearchParams(query) };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (auth === undefined || (probesOpen && (path === '/healthz' || path === '/readyz'))) {
      serve(path, response, url.searchParams);
      return;
    }
    auth.check(request).then(
      (ok) => {
        if (ok) serve(path, response, url.searchParams);
        else response.writeHead(401, { 'www-authenticate': auth.challenge, 'content-type': 'text/plain' }).end('unauthorized\n');
      },
      (error: unknown) => {
        // The secret file is gone or unreadable: nobody is let in, and the message names the file, not a secret.
        options.logger?.error({ err: errorMessage(error) }, 'telemetry credentials cannot be read; refusing every request');
        response.writeHead(503, { 'content-type': 'text/plain' }).end('credentials unavailable\n');
      },
    );
  };

  let server: Server | HttpsServer;
  let stopWatching = () => {};
  if (options.tls) {
    const version = await filesVersion(tlsPaths(options.tls)).catch(() => '');
    const https = createHttpsServer(
      {
        ...(await readTlsContext(options.tls)),
        // With a client CA, a client without a certificate it signed is refused during the handshake.
        requestCert: options.tls.client_ca_file !== undefined,
        rejectUnauthorized: options.tls.client_ca_file !== undefined,
      },
      handler,
    );
    stopWatching = watchCertificates(https, options.tls, version, options.tlsReloadIntervalMs ?? 10_000, options.logger);
    server = https;
  } else {
    server = createServer(handler);
  }
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    stopWatching();
    throw error;
  }
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        stopWatching();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
