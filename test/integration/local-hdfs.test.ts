import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHdfs, type LocalHdfs } from '../../deploy/dev/hdfs/local-hdfs.js';

/**
 * The dev HDFS (hadoop-client-minicluster from Maven Central): WebHDFS's
 * two-step CREATE/APPEND through the datanode redirect, TRUNCATE, and data
 * that survives a SIGKILL and restart on the same ports.
 */
const USER = 'user.name=tributary';

async function twoStep(cluster: LocalHdfs, method: 'PUT' | 'POST', path: string, op: string, body: string): Promise<number> {
  const first = await fetch(`${cluster.namenodeUrl}/webhdfs/v1${path}?op=${op}&${USER}`, { method, redirect: 'manual' });
  await first.arrayBuffer();
  expect(first.status).toBe(307);
  const location = first.headers.get('location') ?? '';
  // The datanode's port is not the namenode's: the redirect must be followed to a different address.
  expect(new URL(location).port).not.toBe(String(cluster.httpPort));
  // Not fetch: the datanode answers `100 Continue` before its final status whether or not the request asked for it,
  // and undici (Node's fetch) fails on an unsolicited 1xx ("bad response"). node:http skips informational responses.
  return new Promise((resolve, reject) => {
    const sent = request(location, { method, headers: { 'content-length': Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

async function read(cluster: LocalHdfs, path: string): Promise<string> {
  const response = await fetch(`${cluster.namenodeUrl}/webhdfs/v1${path}?op=OPEN&${USER}`);
  expect(response.status).toBe(200);
  return response.text();
}

async function length(cluster: LocalHdfs, path: string): Promise<number> {
  const response = await fetch(`${cluster.namenodeUrl}/webhdfs/v1${path}?op=GETFILESTATUS&${USER}`);
  return ((await response.json()) as { FileStatus: { length: number } }).FileStatus.length;
}

describe('startLocalHdfs', () => {
  let cluster: LocalHdfs;

  beforeAll(async () => {
    cluster = await startLocalHdfs();
  }, 240_000);

  afterAll(async () => {
    await cluster.stop();
  });

  it('serves WebHDFS: two-step create and append via the datanode, truncate, list', async () => {
    expect(cluster.version).toBe('3.5.0');
    expect(await twoStep(cluster, 'PUT', '/it/a.txt', 'CREATE', 'hello\n')).toBe(201);
    expect(await twoStep(cluster, 'POST', '/it/a.txt', 'APPEND', 'world\n')).toBe(200);
    expect(await read(cluster, '/it/a.txt')).toBe('hello\nworld\n');
    const truncate = await fetch(`${cluster.namenodeUrl}/webhdfs/v1/it/a.txt?op=TRUNCATE&newlength=6&${USER}`, { method: 'POST' });
    expect(truncate.status).toBe(200);
    // Not on a block boundary: the namenode answers false and recovers the last block in the background.
    const done = ((await truncate.json()) as { boolean: boolean }).boolean;
    for (let waited = 0; !done && (await length(cluster, '/it/a.txt')) !== 6 && waited < 100; waited++) await new Promise((r) => setTimeout(r, 100));
    expect(await read(cluster, '/it/a.txt')).toBe('hello\n');
    const list = await fetch(`${cluster.namenodeUrl}/webhdfs/v1/it?op=LISTSTATUS&${USER}`);
    const names = ((await list.json()) as { FileStatuses: { FileStatus: Array<{ pathSuffix: string }> } }).FileStatuses.FileStatus.map((s) => s.pathSuffix);
    expect(names).toEqual(['a.txt']);
  });

  it('keeps files across a SIGKILL and restart on the same namenode port', async () => {
    expect(await twoStep(cluster, 'PUT', '/it/durable.txt', 'CREATE', 'kept\n')).toBe(201);
    await cluster.kill();
    await expect(fetch(`${cluster.namenodeUrl}/webhdfs/v1/?op=LISTSTATUS&${USER}`)).rejects.toThrow();
    await cluster.restart();
    expect(await read(cluster, '/it/durable.txt')).toBe('kept\n');
    expect(await twoStep(cluster, 'POST', '/it/durable.txt', 'APPEND', 'more\n')).toBe(200);
    expect(await read(cluster, '/it/durable.txt')).toBe('kept\nmore\n');
  }, 180_000);
});
