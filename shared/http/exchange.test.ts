import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent as HttpAgent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../test-support/tls-certificates.js';
import { asText, exchange, type Exchange } from './exchange.js';
import { HttpRequestError, ResponseTooLargeError, isConnectionRefused } from './http-errors.js';
import { listenLocal } from '../test-support/ports.js';

/** A request as the callers send it, with everything a test does not care about defaulted. */
type Options = Partial<Exchange> & Pick<Exchange, 'url'>;

function send(options: Options) {
  return exchange({ method: 'GET', timeoutMs: 5_000, where: `GET ${options.url.host}`, maxBodyBytes: 1 << 20, ...options });
}

/** The error `promise` rejects with (the test fails if it resolves). */
async function failure(promise: Promise<unknown>): Promise<HttpRequestError> {
  const error = await promise.then(
    () => new Error('the request succeeded'),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HttpRequestError);
  return error as HttpRequestError;
}

/** Writes `chunk` until the client goes away: a response with no end. */
function endless(response: ServerResponse, chunk: Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(200, headers);
  const more = (): void => {
    while (!response.destroyed && response.write(chunk));
    if (!response.destroyed) response.once('drain', more);
  };
  more();
}

const servers: Server[] = [];
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Listens on a free port with `handler`; resolves with its URL. */
async function listen(server: Server, scheme: 'http' | 'https'): Promise<URL> {
  servers.push(server);
  // Stalling handlers leave sockets open; the test ends them so close() can finish.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await listenLocal(server);
  return new URL(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/path?q=1`);
}

function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<URL> {
  return listen(createServer(handler), 'http');
}

describe('exchange', () => {
  it('sends method, headers and payload (with its length), and resolves with status, status text, headers and body', async () => {
    const url = await serve((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        response.writeHead(201, 'Made It', { 'x-echo': request.headers['x-test'] ?? '' });
        response.end(
          JSON.stringify({ method: request.method, url: request.url, length: request.headers['content-length'], body: Buffer.concat(chunks).toString() }),
        );
      });
    });
    const response = await send({ url, method: 'PUT', headers: { 'x-test': 'yes' }, payload: Buffer.from('grüße') });
    expect(response.status).toBe(201);
    expect(response.statusMessage).toBe('Made It');
    expect(response.headers['x-echo']).toBe('yes');
    expect(JSON.parse(asText(response).body)).toEqual({ method: 'PUT', url: '/path?q=1', length: '7', body: 'grüße' });
  });

  it('resolves with error statuses too: what a status means is the caller’s', async () => {
    const url = await serve((_request, response) => response.writeHead(503).end('busy'));
    const response = await send({ url });
    expect(response.status).toBe(503);
    expect(response.body.toString()).toBe('busy');
  });

  it('decodes a gzip body', async () => {
    const text = 'metric 1\n'.repeat(10_000);
    const url = await serve((_request, response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(text)));
    expect(asText(await send({ url })).body).toBe(text);
  });

  it('closes a response whose status the caller does not read, even an endless one', async () => {
    const url = await serve((_request, response) => endless(response, Buffer.alloc(64 * 1024, 'x')));
    const response = await send({ url, readBody: (status) => status !== 200 });
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(0);
  });

  describe('a body over its cap', () => {
    it('fails with a typed, retriable error naming the cap, received or decoded', async () => {
      const url = await serve((_request, response) => endless(response, Buffer.alloc(64 * 1024, 'x')));
      const error = await failure(send({ url, maxBodyBytes: 100_000 }));
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect(error).toMatchObject({ failure: 'too_large', maxBytes: 100_000, retriable: true, code: 'SINK_UNAVAILABLE' });
      expect(error.message).toBe(`GET ${url.host}: response body larger than the 100000-byte cap (received); stopped reading`);
    });

    it('13.11: stops a gzip bomb at the cap while it decodes, in bounded memory', async () => {
      // 256 MiB of zeros in about 256 KB of gzip.
      const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
      const bomb = Buffer.concat(Array.from({ length: 256 }, () => member));
      const url = await serve((_request, response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb));
      const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      const error = await failure(send({ url, maxBodyBytes: 4 << 20 }));
      expect(error.message).toMatch(/4194304-byte cap \(decoded\)/);
      expect(process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
    });

    it('keeps the first maxBytes with overflow: truncate', async () => {
      const url = await serve((_request, response) => endless(response, Buffer.alloc(1000, 'y')));
      const response = await send({ url, maxBodyBytes: 4096, overflow: 'truncate' });
      expect(response.body.equals(Buffer.alloc(4096, 'y'))).toBe(true);
    });

    it('has no cap at Infinity', async () => {
      const url = await serve((_request, response) => response.end(Buffer.alloc(3 << 20, 'z')));
      expect((await send({ url, maxBodyBytes: Infinity })).body.length).toBe(3 << 20);
    });
  });

  describe('deadlines and aborts', () => {
    it('fails a server that never answers at the deadline, as a retriable timeout', async () => {
      const url = await serve(() => undefined);
      const started = performance.now();
      const error = await failure(send({ url, timeoutMs: 200 }));
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(error).toMatchObject({ failure: 'timeout', code: 'SINK_UNAVAILABLE', retriable: true });
      expect(error.message).toBe(`GET ${url.host}: no response within 200 ms`);
    });

    it('slowloris: a body that trickles in forever fails at the same whole-request deadline', async () => {
      const url = await serve((_request, response) => {
        response.writeHead(200);
        const drip = setInterval(() => (response.destroyed ? clearInterval(drip) : response.write('x')), 20);
        response.once('close', () => clearInterval(drip));
      });
      const started = performance.now();
      const error = await failure(send({ url, timeoutMs: 300 }));
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(error.failure).toBe('timeout');
    });

    it('ends a request in flight when the signal aborts, as SHUTDOWN', async () => {
      const url = await serve(() => undefined);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const error = await failure(send({ url, signal: controller.signal }));
      expect(error).toMatchObject({ failure: 'aborted', code: 'SHUTDOWN', retriable: true });
      expect(error.message).toBe(`GET ${url.host}: aborted at shutdown`);
    });

    it('sends nothing when the signal has already aborted', async () => {
      let requests = 0;
      const url = await serve((_request, response) => {
        requests++;
        response.end();
      });
      expect((await failure(send({ url, signal: AbortSignal.abort() }))).failure).toBe('aborted');
      expect(requests).toBe(0);
    });
  });

  it('says a refused connection is one, so a caller knows nothing was sent', async () => {
    const url = await serve(() => undefined);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const error = await failure(send({ url }));
    expect(error).toMatchObject({ failure: 'request', retriable: true });
    expect(error.reason).toMatch(/ECONNREFUSED/);
    expect(isConnectionRefused(error)).toBe(true);
  });

  it('gives an agent-less request a connection of its own, and reuses a keep-alive agent’s', async () => {
    const ports: number[] = [];
    const url = await serve((request, response) => {
      ports.push(request.socket.remotePort ?? 0);
      response.end('ok');
    });
    await send({ url });
    await send({ url });
    const agent = new HttpAgent({ keepAlive: true });
    try {
      await send({ url, agents: { http: agent } });
      await send({ url, agents: { http: agent } });
    } finally {
      agent.destroy();
    }
    expect(new Set(ports.slice(0, 2)).size).toBe(2);
    expect(ports[2]).toBe(ports[3]);
  });

  describe('TLS', () => {
    let dir = '';
    let certificates: TestCertificates;
    let ca: Buffer;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tributary-exchange-tls-'));
      certificates = await makeTestCertificates(dir, 'tributary.test');
      ca = await readFile(certificates.caFile);
    });

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    function serveTls(): Promise<URL> {
      return listen(
        createHttpsServer({ key: certificates.key, cert: certificates.cert }, (_request, response) => response.end('secret')),
        'https',
      );
    }

    it('verifies the server against the given CA and server name, per request or through an agent', async () => {
      const url = await serveTls();
      expect(asText(await send({ url, tls: { ca, servername: 'tributary.test' } })).body).toBe('secret');
      const agent = new HttpsAgent({ ca, servername: 'tributary.test' });
      try {
        expect(asText(await send({ url, agents: { https: agent } })).body).toBe('secret');
      } finally {
        agent.destroy();
      }
    });

    it('words a TLS failure once, naming the config key to check (the caller’s keys, else `tls.*`), as blocked', async () => {
      const url = await serveTls();
      const unknownCa = await failure(send({ url, tls: { servername: 'tributary.test' } }));
      expect(unknownCa.tls?.kind).toBe('unknown_ca');
      expect(unknownCa.message).toBe(
        `GET ${url.host}: TLS failed: the server's certificate is not signed by a CA the client trusts: check tls.ca_file ` +
          '(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate)',
      );
      expect(unknownCa.context).toMatchObject({ tls_code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', key: 'tls', blocked: true });
      const keys = { peer: 'server', tls: 'outputs.x.tls', address: 'outputs.x.endpoints', notTls: 'check outputs.x.endpoints' };
      const wrongName = await failure(send({ url, tls: { ca, servername: 'other.test' }, tlsKeys: keys }));
      expect(wrongName.reason).toBe(
        "TLS failed: the server's certificate does not name the host connected to: check outputs.x.tls.server_name and outputs.x.endpoints " +
          "(ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: Host: other.test. is not in the cert's altnames: DNS:tributary.test)",
      );
      const plain = await serve((_request, response) => response.end('plain'));
      const notTls = await failure(send({ url: new URL(plain.href.replace('http:', 'https:')), tlsKeys: keys }));
      expect(notTls.tls?.kind).toBe('not_tls');
      expect(notTls.reason).toMatch(/^TLS failed: the server did not answer in TLS: check outputs\.x\.endpoints \(EPROTO: .*wrong version number/);
      // Not a TLS failure: no `tls`, the message as it was.
      const refused = await failure(send({ url: new URL('https://127.0.0.1:1/') }));
      expect(refused.tls).toBeUndefined();
      // Told to skip verification, it does.
      expect((await send({ url, tls: { rejectUnauthorized: false } })).status).toBe(200);
    });
  });
});
