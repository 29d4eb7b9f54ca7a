import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../../shared/errors.js';
import { WEBHDFS_MAX_RESPONSE_BYTES, WebHdfsClient } from './webhdfs-client.js';
import { listenLocal } from '../../../shared/test-support/ports.js';

let server: Server | undefined;
let client: WebHdfsClient | undefined;

afterEach(async () => {
  client?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A namenode (and datanode, under /datanode) answering every request with `answer`. */
async function namenode(answer: (path: string, response: ServerResponse, base: string) => void): Promise<WebHdfsClient> {
  server = createServer((request, response) => {
    const { port } = server?.address() as AddressInfo;
    answer(new URL(request.url ?? '/', 'http://x').pathname, response, `http://127.0.0.1:${port}`);
  });
  await listenLocal(server);
  const { port } = server.address() as AddressInfo;
  client = new WebHdfsClient({ namenodes: [`http://127.0.0.1:${port}`], user: 'tributary', requestTimeoutMs: 60_000 });
  return client;
}

function endless(response: ServerResponse): void {
  const chunk = Buffer.alloc(1 << 20, '{');
  response.writeHead(200, { 'content-type': 'application/json' });
  const more = (): void => {
    while (!response.destroyed && response.write(chunk));
    if (!response.destroyed) response.once('drain', more);
  };
  more();
}

describe('WebHdfsClient responses', () => {
  it('13.11: an endless namenode answer is cut at the cap, not buffered whole', async () => {
    const hdfs = await namenode((_path, response) => endless(response));
    const error = await hdfs.getFileStatus('/logs').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).retriable).toBe(true);
    expect((error as Error).message).toContain(`response body larger than the ${WEBHDFS_MAX_RESPONSE_BYTES}-byte cap (received)`);
  });

  it('13.11: an endless answer to a mutating request is cut and reported as uncertain', async () => {
    const hdfs = await namenode((_path, response) => endless(response));
    const error = (await hdfs.mkdirs('/logs').catch((caught: unknown) => caught)) as TributaryError;
    expect(error.context.uncertain).toBe(true);
    expect(error.message).toContain('-byte cap (received)');
  });

  it('13.11: a gzip bomb from a datanode is decoded no further than the read cap', async () => {
    const member = gzipSync(Buffer.alloc(1 << 20));
    const bomb = Buffer.concat(Array.from({ length: 256 }, () => member));
    const hdfs = await namenode((path, response, base) => {
      if (path.startsWith('/datanode')) response.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb);
      else response.writeHead(307, { location: `${base}/datanode${path}` }).end();
    });
    const error = await hdfs.read('/marker', undefined, 1 << 20).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /^WebHDFS OPEN \/marker at the datanode: WebHDFS GET http:\/\/127\.0\.0\.1:\d+\/datanode\/webhdfs\/v1\/marker: response body larger than the 1048576-byte cap \(decoded\); stopped reading$/,
    );
  });

  it('reads a file within the cap', async () => {
    const hdfs = await namenode((path, response, base) => {
      if (path.startsWith('/datanode')) response.writeHead(200).end('marker-content');
      else response.writeHead(307, { location: `${base}/datanode${path}` }).end();
    });
    expect((await hdfs.read('/marker')).toString()).toBe('marker-content');
  });
});
