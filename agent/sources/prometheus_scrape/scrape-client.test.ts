import { createServer, type ServerResponse, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeJobSchema } from './config.js';
import { ScrapeError, scrapeTarget, type ScrapeClientOptions } from './scrape-client.js';
import { listenLocal } from '../../../shared/test-support/ports.js';

const EXPOSITION = Buffer.from(`# TYPE x counter\n${Array.from({ length: 2000 }, (_, index) => `x_total{n="${index}"} ${index}`).join('\n')}\n`);
const GZIPPED = gzipSync(EXPOSITION);
const DEFLATED = deflateSync(EXPOSITION);
/** 64 MiB of zeros: about 64 KiB gzipped. */
const GZIP_BOMB = gzipSync(Buffer.alloc(64 * 1024 * 1024));

type Handler = (response: ServerResponse, socket: Socket) => void;

describe('scrapeTarget', () => {
  let server: Server;
  let base = '';
  const handlers = new Map<string, Handler>();
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      const handler = handlers.get(request.url ?? '/');
      if (handler === undefined) response.writeHead(404).end();
      else handler(response, request.socket);
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await listenLocal(server);
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function options(job: Record<string, unknown> = {}): ScrapeClientOptions {
    return { job: scrapeJobSchema.parse({ job_name: 'app', scrape_timeout: '300ms', static_configs: [{ targets: ['localhost:1'] }], ...job }) };
  }

  /** The ScrapeError a scrape of `path` ends with, and how long it took. */
  async function failure(path: string, job: Record<string, unknown> = {}): Promise<{ message: string; ms: number }> {
    const client = options(job);
    const started = performance.now();
    const error = await scrapeTarget(`${base}${path}`, client, AbortSignal.timeout(client.job.scrape_timeout)).then(
      () => new Error('the scrape succeeded'),
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(ScrapeError);
    return { message: (error as Error).message, ms: performance.now() - started };
  }

  /** Headers and the first half of `body`, then nothing more: the socket stays open until the test ends it. */
  function stallAfterHalf(encoding: string, body: Buffer): Handler {
    return (response) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-encoding': encoding });
      response.write(body.subarray(0, body.length >> 1));
    };
  }

  it('reads gzip and deflate bodies whole', async () => {
    handlers.set('/gzip', (response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(GZIPPED));
    handlers.set('/deflate', (response) => response.writeHead(200, { 'content-encoding': 'deflate' }).end(DEFLATED));
    for (const path of ['/gzip', '/deflate']) {
      const client = options();
      const { body } = await scrapeTarget(`${base}${path}`, client, AbortSignal.timeout(client.job.scrape_timeout));
      expect(body).toBe(EXPOSITION.toString('utf8'));
    }
  });

  it('13.6: a compressed body that stalls halfway times out at scrape_timeout', async () => {
    handlers.set('/stall-gzip', stallAfterHalf('gzip', GZIPPED));
    handlers.set('/stall-deflate', stallAfterHalf('deflate', DEFLATED));
    for (const path of ['/stall-gzip', '/stall-deflate']) {
      // Before the fix the body was piped into the decompressor, which never heard of the abort: this never settled.
      const { message, ms } = await failure(path);
      expect(message).toBe(`${base}${path}: timed out after 300 ms`);
      expect(ms).toBeLessThan(5_000);
    }
    for (const socket of sockets) socket.destroy();
  });

  it('13.6: a compressed body whose connection is reset halfway fails the scrape at once', async () => {
    handlers.set('/reset', (response, socket) => {
      stallAfterHalf('gzip', GZIPPED)(response, socket);
      setImmediate(() => socket.destroy());
    });
    const { message, ms } = await failure('/reset', { scrape_timeout: '10s' });
    expect(message).toBe(`${base}/reset: gzip body unreadable: aborted`);
    expect(ms).toBeLessThan(5_000);
  });

  it('13.6: corrupt and truncated gzip fail the scrape saying so', async () => {
    handlers.set('/corrupt', (response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(Buffer.from('not gzip at all')));
    handlers.set('/truncated', (response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(GZIPPED.subarray(0, GZIPPED.length >> 1)));
    expect((await failure('/corrupt')).message).toBe(`${base}/corrupt: gzip body unreadable: incorrect header check`);
    expect((await failure('/truncated')).message).toBe(`${base}/truncated: gzip body unreadable: unexpected end of file`);
  });

  it('13.6: a gzip bomb stops at body_size_limit while it decompresses', async () => {
    handlers.set('/bomb', (response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(GZIP_BOMB));
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const { message, ms } = await failure('/bomb', { body_size_limit: 1024 * 1024, scrape_timeout: '10s' });
    expect(message).toBe(`${base}/bomb: body exceeds body_size_limit of 1048576 bytes`);
    expect(ms).toBeLessThan(5_000);
    // The 64 MiB it would inflate to was never held (the limit and a few zlib chunks at most).
    expect(process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(32 * 1024 * 1024);
  });
});
