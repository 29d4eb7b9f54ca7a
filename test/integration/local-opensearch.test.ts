import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOpenSearch, type LocalOpenSearch } from '../../deploy/dev/opensearch/local-opensearch.js';

interface Reply {
  status: number;
  body: unknown;
}

/** One HTTP call with Node's fetch; JSON bodies are sent as JSON, strings as NDJSON. */
async function call(server: LocalOpenSearch, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<Reply> {
  const ndjson = typeof body === 'string';
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : ndjson ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** `_bulk` body: one action line per document, each line newline-terminated (the last one too). */
function bulkBody(action: 'index' | 'create', index: string, docs: object[]): string {
  return docs.map((doc) => `${JSON.stringify({ [action]: { _index: index } })}\n${JSON.stringify(doc)}\n`).join('');
}

interface BulkResponse {
  errors: boolean;
  items: Record<string, { status: number; _index: string }>[];
}

async function count(server: LocalOpenSearch, index: string): Promise<number> {
  const reply = await call(server, 'GET', `/${index}/_count`);
  expect(reply.status).toBe(200);
  return (reply.body as { count: number }).count;
}

/** A pid that certainly belongs to no running process: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('startLocalOpenSearch', () => {
  let server: LocalOpenSearch;
  // What a SIGKILLed earlier run leaves behind: the next start must remove it.
  const stalePid = deadPid();
  const stale = join(tmpdir(), `tributary-opensearch-${stalePid}-stale0`);
  const logs: string[] = [];

  beforeAll(async () => {
    await mkdir(join(stale, 'data'), { recursive: true });
    await writeFile(join(stale, 'owner.pid'), `${stalePid}\n`);
    server = await startLocalOpenSearch({ onLog: (line) => logs.push(line) });
  });

  afterAll(async () => {
    const dataDir = server.dataDir;
    await server.stop();
    expect(existsSync(dataDir)).toBe(false);
    // stop() is idempotent.
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it('serves OpenSearch 2.19 on its own port with its own temp dir, and swept the stale one', async () => {
    expect(existsSync(stale)).toBe(false);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.version).toMatch(/^2\.19\.\d+$/);
    expect(existsSync(join(server.dataDir, 'opensearch.log'))).toBe(true);

    const root = await call(server, 'GET', '/');
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ version: { distribution: 'opensearch', number: server.version } });
    // One node, no replicas to place: green.
    const health = await call(server, 'GET', '/_cluster/health');
    expect(health.body).toMatchObject({ number_of_nodes: 1, status: 'green' });
  });

  it('bulk-indexes NDJSON into an index and searches it back', async () => {
    const created = await call(server, 'PUT', '/events-a', { mappings: { properties: { level: { type: 'keyword' }, n: { type: 'integer' } } } });
    expect(created.status).toBe(200);

    const docs = Array.from({ length: 5 }, (_, n) => ({ n, level: n % 2 === 0 ? 'info' : 'warn', message: `event ${n}` }));
    const bulk = await call(server, 'POST', '/_bulk?refresh=wait_for', bulkBody('index', 'events-a', docs));
    expect(bulk.status).toBe(200);
    const result = bulk.body as BulkResponse;
    expect(result.errors).toBe(false);
    expect(result.items.map((item) => item.index?.status)).toEqual([201, 201, 201, 201, 201]);

    const search = await call(server, 'POST', '/events-a/_search', { query: { term: { level: 'info' } }, track_total_hits: true });
    expect(search.status).toBe(200);
    expect(search.body).toMatchObject({ hits: { total: { value: 3, relation: 'eq' } } });
    expect(await count(server, 'events-a')).toBe(5);
  });

  it('writes to a data stream through an index template, by _doc and by _bulk create', async () => {
    const template = await call(server, 'PUT', '/_index_template/x', {
      index_patterns: ['logs-x-*'],
      data_stream: {},
      priority: 200,
      template: { mappings: { properties: { message: { type: 'text' } } } },
    });
    expect(template.status).toBe(200);

    const single = await call(server, 'POST', '/logs-x-default/_doc?op_type=create&refresh=wait_for', {
      '@timestamp': new Date().toISOString(),
      message: 'one',
    });
    expect(single.status).toBe(201);
    expect((single.body as { _index: string })._index).toMatch(/^\.ds-logs-x-default-\d+$/);

    const now = Date.now();
    const docs = [0, 1, 2].map((n) => ({ '@timestamp': new Date(now + n).toISOString(), message: `bulk ${n}` }));
    const bulk = await call(server, 'POST', '/_bulk?refresh=wait_for', bulkBody('create', 'logs-x-default', docs));
    const result = bulk.body as BulkResponse;
    expect(result.errors).toBe(false);
    expect(result.items.map((item) => item.create?.status)).toEqual([201, 201, 201]);

    const stream = await call(server, 'GET', '/_data_stream/logs-x-default');
    expect(stream.body).toMatchObject({ data_streams: [{ name: 'logs-x-default', status: 'GREEN' }] });
    expect(await count(server, 'logs-x-default')).toBe(4);
  });

  it('survives kill() + restart() with its documents, on the same port', async () => {
    const docs = Array.from({ length: 3 }, (_, n) => ({ n }));
    // No refresh: acknowledged writes must survive a crash through the translog alone.
    const bulk = await call(server, 'POST', '/_bulk', bulkBody('index', 'events-crash', docs));
    expect((bulk.body as BulkResponse).errors).toBe(false);

    const { port, dataDir } = server;
    await server.kill();
    expect(existsSync(dataDir)).toBe(true);
    const refused = await call(server, 'GET', '/').then(
      () => 'answered',
      (error: unknown) => (error instanceof Error && error.cause instanceof Error ? (error.cause as NodeJS.ErrnoException).code : String(error)),
    );
    expect(refused).toBe('ECONNREFUSED');
    // kill() of a dead node does nothing.
    await server.kill();

    await server.restart();
    expect(server.port).toBe(port);
    expect(await count(server, 'events-crash')).toBe(3);
    expect(await count(server, 'events-a')).toBe(5);
    expect(await count(server, 'logs-x-default')).toBe(4);
    // The persistent cluster setting survived too: a new index is still green.
    await call(server, 'PUT', '/after-restart');
    expect((await call(server, 'GET', '/_cluster/health/after-restart?wait_for_status=green&timeout=30s')).status).toBe(200);
  });

  it('hangs while paused and answers again after resume()', async () => {
    server.pause();
    try {
      const during = await call(server, 'GET', '/_cluster/health', undefined, 2_000).then(
        () => 'answered',
        (error: unknown) => (error instanceof Error ? error.name : String(error)),
      );
      expect(during).toBe('TimeoutError');
    } finally {
      server.resume();
    }
    expect((await call(server, 'GET', '/_cluster/health')).status).toBe(200);
  });

  it('restart() of a running node stops it cleanly first', async () => {
    await server.restart();
    expect(await count(server, 'events-a')).toBe(5);
    // Neither the crash nor the restarts made the node log an error.
    expect(logs.filter((line) => /\b(ERROR|FATAL)\b/.test(line))).toEqual([]);
  });
});
