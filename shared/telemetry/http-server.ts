import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

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

/** Serves /metrics (Prometheus text), /healthz and /readyz. */
export async function startTelemetryServer(host: string, port: number, registry: Registry, health: HealthState): Promise<TelemetryServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
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
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
