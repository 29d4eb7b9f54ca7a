import { appendFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSolr, type LocalSolr } from '../../deploy/dev/solr/local-solr.js';
import { waitFor } from '../helpers/kafka.js';
import { metricValue, type RunningProcess } from '../helpers/processes.js';
import { sinkPipeline } from '../helpers/pipeline.js';

/**
 * Files → agent → Kafka → collector → a real Solr 9 (solr-test-framework's
 * JettySolrRunner from Maven Central jars), through the real processes: the
 * count of documents equals the lines written, with the mapped fields; and
 * after the collector is SIGKILLed mid-stream and restarted, Solr holds each
 * event once (a replay overwrites by id).
 */

interface SelectResponse {
  response: { numFound: number; docs: Array<Record<string, unknown>> };
}

async function select(solr: LocalSolr, core: string, query: Record<string, string>): Promise<SelectResponse['response']> {
  const response = await fetch(`${solr.url}/${core}/select?${new URLSearchParams({ wt: 'json', ...query }).toString()}`, {
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`select answered ${response.status}`);
  return ((await response.json()) as SelectResponse).response;
}

async function count(solr: LocalSolr, core: string): Promise<number> {
  return (await select(solr, core, { q: '*:*', rows: '0' })).numFound;
}

/** Distinct `log.record.offset` attributes (each line's byte offset in its file). */
async function distinctOffsets(solr: LocalSolr, core: string): Promise<number> {
  const query = { q: '*:*', rows: '0', 'json.facet': JSON.stringify({ lines: 'unique(attributes.log.record.offset_d)' }), wt: 'json' };
  const response = await fetch(`${solr.url}/${core}/select?${new URLSearchParams(query).toString()}`, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`facet answered ${response.status}`);
  return ((await response.json()) as { facets: { lines?: number } }).facets.lines ?? 0;
}

/** A hard commit opening a searcher: the count after it covers every update Solr acknowledged. */
async function commit(solr: LocalSolr, core: string): Promise<void> {
  const response = await fetch(`${solr.url}/${core}/update?commit=true&wt=json`, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`commit answered ${response.status}`);
}

describe('Solr sink end to end (real Solr, real processes)', () => {
  let solr: LocalSolr | undefined;
  const running: RunningProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    solr = await startLocalSolr({ cores: ['e2e_basic', 'e2e_crash'] });
  }, 300_000);

  afterAll(async () => {
    await Promise.all(running.map((process_) => process_.stop('SIGKILL')));
    await solr?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function pipeline(name: string, core: string) {
    if (!solr) throw new Error('no server');
    return sinkPipeline({
      sink: 'solr',
      name,
      dirPrefix: `tributary-e2e-solr-${name}-`,
      service: `e2e-${name}`,
      outputs: {
        search: {
          type: 'solr',
          endpoints: [solr.url],
          collection: core,
          commit_within: '500ms',
          retry: { initial_backoff: '200ms', max_backoff: '2s' },
        },
      },
      running,
      dirs,
    });
  }

  it('indexes appended lines with the mapped fields; the count equals the lines written', async () => {
    const server = solr as LocalSolr;
    const run = await pipeline('basic', 'e2e_basic');
    await run.startCollector();
    await run.startAgent();
    const lines = 5_000;
    let text = '';
    for (let index = 0; index < lines; index++) text += `line ${index} of the basic run\n`;
    await appendFile(run.logFile, text);
    await waitFor('every line indexed', async () => ((await count(server, 'e2e_basic')) === lines ? true : undefined), 120_000, 250);
    const [doc] = (
      await select(server, 'e2e_basic', { q: 'body_t:"line 42 of"', fl: 'id,body_t,resource.service.name_s,attributes.log.file.path_s,timestamp_dt' })
    ).docs;
    expect(doc?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(doc).toMatchObject({
      body_t: 'line 42 of the basic run',
      'resource.service.name_s': 'e2e-basic',
      'attributes.log.file.path_s': run.logFile,
    });
    expect(doc?.timestamp_dt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // Settled: nothing more arrives, every line exactly once.
    await commit(server, 'e2e_basic');
    expect(await count(server, 'e2e_basic')).toBe(lines);
    const metrics = await (await fetch(`http://127.0.0.1:${run.collectorPort}/metrics`)).text();
    expect(metricValue(metrics, 'tributary_component_sent_events_total', { component_id: 'search' })).toBe(lines);
  }, 180_000);

  it('holds each event exactly once after the collector is SIGKILLed mid-stream and restarted', async () => {
    const server = solr as LocalSolr;
    const run = await pipeline('crash', 'e2e_crash');
    const lines = 40_000;
    let text = '';
    for (let index = 0; index < lines; index++) text += `crash line ${index} ${'x'.repeat(80)}\n`;
    await appendFile(run.logFile, text);
    await run.startAgent();
    const collector = await run.startCollector();
    await waitFor('some documents indexed', async () => ((await count(server, 'e2e_crash')) > 2_000 ? true : undefined), 120_000, 50);
    await collector.stop('SIGKILL');
    await commit(server, 'e2e_crash');
    const atKill = await count(server, 'e2e_crash');
    expect(atKill).toBeLessThan(lines);
    const restarted = await run.startCollector();
    await waitFor('every line indexed', async () => ((await count(server, 'e2e_crash')) >= lines ? true : undefined), 180_000, 250);
    // The restarted collector replays what the killed one had not committed: those updates overwrite by id.
    await commit(server, 'e2e_crash');
    expect(await count(server, 'e2e_crash')).toBe(lines);
    // Every line once: as many distinct file offsets as lines (unique() is exact on one core).
    expect(await distinctOffsets(server, 'e2e_crash')).toBe(lines);
    const metrics = await (await fetch(`http://127.0.0.1:${run.collectorPort}/metrics`)).text();
    const sentAfterRestart = metricValue(metrics, 'tributary_component_sent_events_total', { component_id: 'search' });
    // The restarted collector sent everything not committed at the kill, replays included, and Solr still holds each once.
    expect(atKill + sentAfterRestart).toBeGreaterThanOrEqual(lines);
    await restarted.stop();
  }, 300_000);
});
