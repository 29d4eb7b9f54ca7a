import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest, createServer, type Agent as HttpsAgent, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../telemetry/logger.js';
import { closeLocal, listenLocal } from '../test-support/ports.js';
import { makeTestCertificates, makeTestClientCertificate, type TestCertificates, type TestClientCertificate } from '../test-support/tls-certificates.js';
import { waitFor } from '../test-support/wait.js';
import { TributaryError } from '../errors.js';
import { HttpTransport } from './http-transport.js';
import { ReloadingHttpsAgent } from './reloading-tls.js';

/**
 * The HTTP clients' TLS files rotated under a running client, against a real node:https server that rotates too
 * (to a certificate of a new CA, trusting only client certificates of that CA): the half-finished renewal is not
 * loaded, the complete one is, new connections use it, and a request in flight finishes on its old connection.
 */

const RELOAD_MS = 100;
const RELOADED = 'TLS files reloaded; new connections use them';
const REFUSED = 'TLS files changed but cannot be loaded; new connections keep the previous ones';

interface Authority {
  server: TestCertificates;
  client: TestClientCertificate;
}

let dir: string;
let ca1: Authority;
let ca2: Authority;

async function authority(name: string, client: string): Promise<Authority> {
  const at = join(dir, name);
  await mkdir(at);
  const server = await makeTestCertificates(at, 'localhost');
  return { server, client: await makeTestClientCertificate(at, client) };
}

/** A server requiring a client certificate of `trusted`; answers with the client certificate's CN. */
async function mtlsServer(trusted: Authority): Promise<{ server: Server; port: number; held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  const server = createServer(
    { key: trusted.server.key, cert: trusted.server.cert, ca: await readFile(trusted.server.caFile), requestCert: true, rejectUnauthorized: true },
    (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/held') {
        held.push(res);
        return;
      }
      res.end(clientName(req));
    },
  );
  return { server, port: await listenLocal(server), held };
}

function clientName(req: IncomingMessage): string {
  return req.socket instanceof TLSSocket ? String(req.socket.getPeerCertificate().subject.CN) : 'not TLS';
}

/** Now the server presents `next`'s certificate and trusts only its clients; idle keep-alive connections are closed. */
async function rotateServer(server: Server, next: Authority): Promise<void> {
  server.setSecureContext({ key: next.server.key, cert: next.server.cert, ca: await readFile(next.server.caFile) });
  server.closeIdleConnections();
}

function get(agent: HttpsAgent, port: number, path: string): Promise<{ status: number; body: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      const socket = res.socket;
      if (!(socket instanceof TLSSocket)) throw new Error('not a TLS connection');
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A logger whose messages the test reads. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[]; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
  return { logger, lines, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}

/** The messages without repeats in a row: a renewal written file by file may be refused once per state. */
function distinct(messages: string[]): string[] {
  return messages.filter((message, index) => message !== messages[index - 1]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'http-tls-reload-'));
  ca1 = await authority('ca1', 'client-1');
  ca2 = await authority('ca2', 'client-2');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ReloadingHttpsAgent (real node:https server with mutual TLS)', () => {
  it('loads a complete renewal, not a half-finished one; new connections use it, a request in flight finishes', async () => {
    const mounted = { ca_file: join(dir, 'agent-ca.pem'), cert_file: join(dir, 'agent-client.pem'), key_file: join(dir, 'agent-client.key') };
    await copyFile(ca1.server.caFile, mounted.ca_file);
    await copyFile(ca1.client.certFile, mounted.cert_file);
    await copyFile(ca1.client.keyFile, mounted.key_file);
    const { server, port, held } = await mtlsServer(ca1);
    const log = recordingLogger();
    const reloading = await ReloadingHttpsAgent.open(
      { ...mounted, server_name: 'localhost', insecure_skip_verify: false },
      'outputs.test.tls',
      { keepAlive: true },
      { intervalMs: RELOAD_MS, logger: log.logger },
    );
    try {
      expect((await get(reloading.agent, port, '/')).body).toBe('client-1');
      const inFlight = get(reloading.agent, port, '/held');
      // Awaited below; a failure before then must not surface as an unhandled rejection.
      inFlight.catch(() => undefined);
      await waitFor('the held request to reach the server', () => held.length === 1);
      const heldSocket = held[0]?.socket;

      await rotateServer(server, ca2);
      await waitFor('the idle connection closed by the server', () => Object.keys(reloading.agent.freeSockets).length === 0);
      // Half-finished: the new certificate beside the old key (written first, so no state in between loads).
      await copyFile(ca2.client.certFile, mounted.cert_file);
      await copyFile(ca2.server.caFile, mounted.ca_file);
      await waitFor('the half-finished renewal refused', () => log.messages().includes(REFUSED));
      await new Promise((resolve) => setTimeout(resolve, 3 * RELOAD_MS));
      expect(log.messages()).not.toContain(RELOADED);
      // Still the old CA: a new connection does not trust the rotated server.
      await expect(get(reloading.agent, port, '/')).rejects.toThrow('self-signed certificate in certificate chain');

      await copyFile(ca2.client.keyFile, mounted.key_file);
      await waitFor('the complete renewal loaded', () => log.messages().includes(RELOADED));
      expect(distinct(log.messages())).toEqual([REFUSED, RELOADED]);
      expect(log.lines.join('')).not.toContain('PRIVATE KEY');
      expect((await get(reloading.agent, port, '/')).body).toBe('client-2');

      // The request in flight since before the rotation ends on its old connection, which the client then closes
      // (well before the server's 5 s keep-alive timeout would) instead of keeping it for reuse.
      held[0]?.end('held');
      const finished = await inFlight;
      expect(finished).toMatchObject({ status: 200, body: 'held' });
      await waitFor('the old connection closed by the client', () => finished.socket.destroyed && heldSocket?.destroyed, 1_000);
    } finally {
      reloading.close();
      await closeLocal(server);
    }
  });
});

describe('HttpTransport (the Elasticsearch/OpenSearch and Solr outputs) while its tls.ca_file is rotated', () => {
  it('refuses the rotated server with the old CA and talks to it once the new CA is loaded, without reopening', async () => {
    const caFile = join(dir, 'transport-ca.pem');
    await copyFile(ca1.server.caFile, caFile);
    // Server authentication only, as most Elasticsearch/Solr clusters: no client certificate asked for. Each
    // answer closes its connection, so every request makes the handshake with the transport's TLS of the moment.
    const server = createServer({ key: ca1.server.key, cert: ca1.server.cert }, (_req, res) => res.setHeader('connection', 'close').end('{"ok":true}'));
    const port = await listenLocal(server);
    const log = recordingLogger();
    const transport = new HttpTransport(
      {
        endpoints: [`https://127.0.0.1:${port}`],
        tls: { ca_file: caFile, server_name: 'localhost', insecure_skip_verify: false },
        max_concurrent_requests: 2,
        compression: 'none',
        request_timeout: 5_000,
      },
      Date.now,
      'outputs.search',
      { intervalMs: RELOAD_MS, logger: log.logger },
    );
    const signal = new AbortController().signal;
    try {
      await transport.open();
      const [endpoint] = transport.endpoints;
      if (endpoint === undefined) throw new Error('no endpoint');
      expect((await transport.send(endpoint, { method: 'GET', path: '/' }, signal)).response).toMatchObject({ status: 200, body: '{"ok":true}' });

      server.setSecureContext({ key: ca2.server.key, cert: ca2.server.cert });
      const refused = await transport.send(endpoint, { method: 'GET', path: '/' }, signal).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(TributaryError);
      expect((refused as Error).message).toContain('check outputs.search.tls.ca_file');

      await copyFile(ca2.server.caFile, caFile);
      await waitFor('the new CA loaded', () => log.messages().includes(RELOADED));
      expect((await transport.send(endpoint, { method: 'GET', path: '/' }, signal)).response).toMatchObject({ status: 200, body: '{"ok":true}' });
      expect(log.messages()).toEqual([RELOADED]);
    } finally {
      transport.close();
      await closeLocal(server);
    }
  });
});
