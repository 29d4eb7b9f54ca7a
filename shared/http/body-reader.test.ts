import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { readCappedBody, type BodyCap } from './body-reader.js';
import { HttpRequestError, ResponseTooLargeError } from './http-errors.js';
import { listenLocal } from '../test-support/ports.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server answering every request with `answer`; resolves with a function that GETs it and reads with `cap`. */
async function serve(answer: (response: ServerResponse) => void): Promise<(cap: Omit<BodyCap, 'where'>) => Promise<Buffer>> {
  server = createServer((_request, response) => answer(response));
  await listenLocal(server);
  const { port } = server.address() as AddressInfo;
  return async (cap) => {
    const message = await new Promise<IncomingMessage>((resolve, reject) => get(`http://127.0.0.1:${port}/`, resolve).on('error', reject));
    return readCappedBody(message, { ...cap, where: 'GET test' });
  };
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

describe('readCappedBody', () => {
  it('reads and decodes a body within the cap', async () => {
    const text = '{"ok":true}'.repeat(1000);
    const plain = await serve((response) => response.end(text));
    expect((await plain({ maxBytes: 1 << 20 })).toString()).toBe(text);
    const zipped = await serve((response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(text)));
    expect((await zipped({ maxBytes: 1 << 20 })).toString()).toBe(text);
  });

  it('13.11: a gzip bomb fails with a typed error naming the cap after decoding at most the cap, with bounded memory', async () => {
    // 1 GiB of zeros in about 1 MB of gzip (1024 members of 1 MiB each): the answer that took the transport to 2.1 GB of RSS.
    const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    expect(bomb.length).toBeLessThan(1_100_000);
    const read = await serve((response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb));
    const rssBefore = process.memoryUsage().rss;
    const error = await read({ maxBytes: 8 << 20 }).catch((caught: unknown) => caught);
    const grown = process.memoryUsage().rss - rssBefore;
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as ResponseTooLargeError).maxBytes).toBe(8 << 20);
    expect((error as ResponseTooLargeError).retriable).toBe(true);
    expect((error as Error).message).toBe('GET test: response body larger than the 8388608-byte cap (decoded); stopped reading');
    // The cap plus zlib's buffers, not the gigabyte the body inflates to.
    expect(grown).toBeLessThan(200 << 20);
  });

  it('13.11: an endless response fails at the cap, plain or as an endless run of empty gzip members', async () => {
    const plain = await serve((response) => endless(response, Buffer.alloc(64 * 1024, 'x')));
    await expect(plain({ maxBytes: 1 << 20 })).rejects.toThrow(/1048576-byte cap \(received\)/);
    const emptyMember = gzipSync(Buffer.alloc(0));
    const members = Buffer.concat(Array.from({ length: 1000 }, () => emptyMember));
    const zipped = await serve((response) => endless(response, members, { 'content-encoding': 'gzip' }));
    await expect(zipped({ maxBytes: 1 << 20 })).rejects.toBeInstanceOf(ResponseTooLargeError);
  });

  it('13.11: a declared content-length over the cap is refused before reading', async () => {
    const read = await serve((response) => response.writeHead(200, { 'content-length': String(10 << 20) }).write('x'));
    await expect(read({ maxBytes: 1 << 20 })).rejects.toThrow(/cap \(received\)/);
  });

  it('13.11: truncate keeps the first maxBytes of an endless or bombing body and stops reading', async () => {
    const plain = await serve((response) => endless(response, Buffer.alloc(1000, 'y')));
    // Buffer#equals: a deep toEqual over 100k bytes takes seconds.
    expect((await plain({ maxBytes: 4096, overflow: 'truncate' })).equals(Buffer.alloc(4096, 'y'))).toBe(true);
    // About 64 KB of gzip, within the cap on the wire, inflating to 64 MiB: cut at the cap after decoding.
    const member = gzipSync(Buffer.alloc(1 << 20, 'z'));
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
    const zipped = await serve((response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb));
    expect((await zipped({ maxBytes: 128 * 1024, overflow: 'truncate' })).equals(Buffer.alloc(128 * 1024, 'z'))).toBe(true);
  });

  it('rejects a corrupt gzip body and an unknown encoding as errors, not as an empty body', async () => {
    const corrupt = await serve((response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip at all'));
    const error = await corrupt({ maxBytes: 1 << 20 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpRequestError);
    expect(error).toMatchObject({ failure: 'read', reason: 'incorrect header check', contentEncoding: 'gzip', retriable: true });
    expect((error as Error).message).toBe('GET test: reading the response: incorrect header check');
    const unknown = await serve((response) => response.writeHead(200, { 'content-encoding': 'zstd' }).end('x'));
    await expect(unknown({ maxBytes: 1 << 20 })).rejects.toThrow('GET test: reading the response: unsupported content-encoding "zstd"');
  });

  it('rejects when the server resets a compressed body midway', async () => {
    const half = gzipSync(Buffer.alloc(1 << 20, 'a')).subarray(0, 500);
    const read = await serve((response) => {
      response.writeHead(200, { 'content-encoding': 'gzip' });
      response.write(half, () => response.socket?.destroy());
    });
    await expect(read({ maxBytes: 1 << 20 })).rejects.toThrow();
  });
});
