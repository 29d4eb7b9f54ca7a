import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSolr, type LocalSolr } from '../../deploy/dev/solr/local-solr.js';

/**
 * The local Solr 9 from Maven Central jars (solr-test-framework's
 * JettySolrRunner) with the committed configset: typed dynamic fields, the
 * event id as uniqueKey, the tolerant update chain, and acknowledged updates
 * that survive a SIGKILL (update log replayed at restart).
 */

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(solr: LocalSolr, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${solr.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface SelectBody {
  response: { numFound: number; docs: Array<Record<string, unknown>> };
}

async function select(solr: LocalSolr, core: string, query: string): Promise<SelectBody['response']> {
  const reply = await call(solr, 'GET', `/${core}/select?${query}&wt=json`);
  expect(reply.status).toBe(200);
  return (reply.body as unknown as SelectBody).response;
}

/** A pid that certainly belongs to no running process: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('startLocalSolr', () => {
  let solr: LocalSolr;
  /** Set once started: afterAll stops it even when beforeAll failed half-way. */
  let started: LocalSolr | undefined;
  const stalePid = deadPid();
  // What a SIGKILLed earlier run leaves behind: the next start must remove it.
  const stale = join(tmpdir(), `tributary-solr-${stalePid}-stale0`);

  beforeAll(async () => {
    await mkdir(join(stale, 'home'), { recursive: true });
    await writeFile(join(stale, 'owner.pid'), `${stalePid}\n`);
    solr = started = await startLocalSolr({ cores: ['tributary', 'second'] });
  }, 300_000);

  afterAll(async () => {
    await started?.stop();
  });

  it('serves the committed configset: typed dynamic fields, id as uniqueKey, an overwrite on the same id', async () => {
    expect(solr.version).toBe('9.10.1');
    expect(solr.url).toBe(`http://127.0.0.1:${solr.port}/solr`);
    expect(solr.collection).toBe('tributary');
    expect(existsSync(stale)).toBe(false);

    const docs = [
      { id: 'a', n_l: 5, x_d: 1.5, when_dt: '2026-11-23T12:00:00.123Z', ok_b: true, name_s: 'Web Shop', body_t: 'GET /Cart failed', tags_ss: ['x', 'y'] },
      { id: 'b', n_l: 6, body_t: 'second' },
    ];
    const update = await call(solr, 'POST', '/tributary/update?commitWithin=100&wt=json', docs);
    expect(update.status).toBe(200);
    // The same id again replaces the document.
    expect((await call(solr, 'POST', '/tributary/update?commit=true&wt=json', [{ id: 'b', n_l: 7 }])).status).toBe(200);
    expect((await select(solr, 'tributary', 'q=*:*&rows=0')).numFound).toBe(2);
    const [doc] = (await select(solr, 'tributary', 'q=body_t:cart&fl=id,n_l,x_d,when_dt,ok_b,name_s,tags_ss')).docs;
    expect(doc).toEqual({ id: 'a', n_l: 5, x_d: 1.5, when_dt: '2026-11-23T12:00:00.123Z', ok_b: true, name_s: 'Web Shop', tags_ss: ['x', 'y'] });
    expect((await select(solr, 'tributary', 'q=id:b&fl=id,n_l,body_t')).docs).toEqual([{ id: 'b', n_l: 7 }]);
    // Range queries on the typed fields.
    expect((await select(solr, 'tributary', 'q=n_l:[6%20TO%20*]&rows=0')).numFound).toBe(1);
    // The other core is separate.
    expect((await select(solr, 'second', 'q=*:*&rows=0')).numFound).toBe(0);
  });

  it('has the tolerant update chain: a bad document fails alone and is named in the response', async () => {
    const reply = await call(solr, 'POST', '/second/update?update.chain=tolerant&commit=true&wt=json', [
      { id: 't1', n_l: 1 },
      { id: 't2', n_l: 'many' },
      { id: 't3', n_l: 3 },
    ]);
    expect(reply.status).toBe(200);
    const header = reply.body.responseHeader as { errors: Array<{ type: string; id: string; message: string }> };
    expect(header.errors).toHaveLength(1);
    expect(header.errors[0]).toMatchObject({ type: 'ADD', id: 't2' });
    expect(header.errors[0]?.message).toContain("Error adding field 'n_l'='many'");
    expect((await select(solr, 'second', 'q=*:*&rows=0')).numFound).toBe(2);
    // Without the chain, the same request is a 400 for the whole request.
    const plain = await call(solr, 'POST', '/second/update?wt=json', [{ id: 't4', n_l: 'many' }]);
    expect(plain.status).toBe(400);
  });

  it('keeps acknowledged but uncommitted updates across a SIGKILL (update log replay) and comes back on the same port', async () => {
    await solr.createCore('third');
    expect(solr.cores).toEqual(['tributary', 'second', 'third']);
    const docs = Array.from({ length: 500 }, (_, n) => ({ id: `k${n}`, n_l: n }));
    // commitWithin far away: nothing is committed when the server dies.
    expect((await call(solr, 'POST', '/third/update?commitWithin=600000&wt=json', docs)).status).toBe(200);
    await solr.kill();
    await expect(fetch(`${solr.url}/admin/info/system?wt=json`)).rejects.toThrow();
    await solr.restart();
    expect((await select(solr, 'third', 'q=*:*&rows=0')).numFound).toBe(500);
    expect((await select(solr, 'tributary', 'q=*:*&rows=0')).numFound).toBe(2);
    expect((await select(solr, 'second', 'q=*:*&rows=0')).numFound).toBe(2);
  }, 180_000);

  it('stop() removes its temp dir and is idempotent', async () => {
    const other = await startLocalSolr();
    expect(existsSync(other.dataDir)).toBe(true);
    await Promise.all([other.stop(), other.stop()]);
    expect(existsSync(other.dataDir)).toBe(false);
    await expect(other.restart()).rejects.toThrow(/was stopped/);
  }, 180_000);
});
