import { appendFile, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOpenSearch, type LocalOpenSearch } from '../../deploy/dev/opensearch/local-opensearch.js';
import { readTopic, waitFor } from '../helpers/kafka.js';
import { metricValue, type RunningProcess } from '../helpers/processes.js';
import { sinkPipeline } from '../helpers/pipeline.js';

/**
 * Files → agent → Kafka → collector → a real Elasticsearch-API server
 * (OpenSearch 2.19 from Maven Central jars): searchable with the right
 * fields, exactly once after a collector crash, nothing lost while the server
 * is down for a minute, and mapping violations dead-lettered.
 */
interface CountResponse {
  count: number;
}
interface SearchResponse {
  hits: { hits: Array<{ _id: string; _index: string; _source: Record<string, unknown> }> };
}

async function count(server: LocalOpenSearch, index: string): Promise<number> {
  const response = await fetch(`${server.url}/${index}/_count`);
  if (response.status === 404) return 0;
  return ((await response.json()) as CountResponse).count;
}

describe('Elasticsearch sink end to end (real OpenSearch, real processes)', () => {
  let server: LocalOpenSearch | undefined;
  const running: RunningProcess[] = [];

  beforeAll(async () => {
    server = await startLocalOpenSearch();
  }, 300_000);

  afterAll(async () => {
    await Promise.all(running.map((process_) => process_.stop('SIGKILL')));
    await server?.stop();
  });

  async function pipeline(name: string, collectorExtra: Record<string, unknown> = {}) {
    if (!server) throw new Error('no server');
    const dataset = `e2e-${name}`;
    const run = await sinkPipeline({
      sink: 'es',
      name,
      dirPrefix: `tributary-es-${name}-`,
      service: dataset,
      outputs: {
        search: {
          type: 'elasticsearch',
          endpoints: [server.url],
          data_stream: { dataset: '{resource.service.name}' },
          retry: { initial_backoff: '200ms', max_backoff: '2s' },
        },
      },
      collector: collectorExtra,
      running,
    });
    // A dataset may not contain '-' (it separates type, dataset and namespace), so the sink writes it as '_'.
    return { ...run, dataStream: `logs-${dataset.replaceAll('-', '_')}-default` };
  }

  it('makes appended lines searchable with ECS fields; the count equals the lines written', async () => {
    if (!server) throw new Error('no server');
    const run = await pipeline('basic');
    await run.startCollector();
    await run.startAgent();
    const lines = 5_000;
    let text = '';
    for (let index = 0; index < lines; index++) text += `line ${index} of the basic run\n`;
    await appendFile(run.logFile, text);
    await waitFor('every line indexed', async () => ((await count(server as LocalOpenSearch, run.dataStream)) === lines ? true : undefined), 120_000, 500);
    const response = await fetch(`${server.url}/${run.dataStream}/_search?q=message:%22line%2042%20of%22&size=1`);
    const [hit] = ((await response.json()) as SearchResponse).hits.hits;
    expect(hit?._index).toMatch(/^\.ds-logs-e2e_basic-default-/);
    expect(hit?._id).toMatch(/^[0-9a-f]{32}$/);
    // ECS fields as nested objects, the way ingest pipelines and Kibana address them.
    expect(hit?._source).toMatchObject({
      message: 'line 42 of the basic run',
      event: { id: hit?._id },
      service: { name: 'e2e-basic' },
      log: { file: { path: run.logFile } },
    });
    expect(typeof hit?._source['@timestamp']).toBe('string');
  }, 180_000);

  it('holds each event exactly once after the collector is SIGKILLed mid-indexing and restarted', async () => {
    if (!server) throw new Error('no server');
    const run = await pipeline('crash');
    const lines = 40_000;
    let text = '';
    for (let index = 0; index < lines; index++) text += `crash line ${index} ${'x'.repeat(80)}\n`;
    await appendFile(run.logFile, text);
    await run.startAgent();
    const collector = await run.startCollector();
    await waitFor('some documents indexed', async () => ((await count(server as LocalOpenSearch, run.dataStream)) > 2_000 ? true : undefined), 120_000, 100);
    await collector.stop('SIGKILL');
    const atKill = await count(server, run.dataStream);
    expect(atKill).toBeLessThan(lines);
    await run.startCollector();
    await waitFor('every line indexed once', async () => ((await count(server as LocalOpenSearch, run.dataStream)) >= lines ? true : undefined), 180_000, 500);
    // Replayed records were created before: 409s count as success, so nothing is indexed twice.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await fetch(`${server.url}/${run.dataStream}/_refresh`, { method: 'POST' });
    expect(await count(server, run.dataStream)).toBe(lines);
  }, 300_000);

  it('loses nothing while the server is down for a minute, and says so in its metrics', async () => {
    if (!server) throw new Error('no server');
    const run = await pipeline('outage');
    const collector = await run.startCollector();
    await run.startAgent();
    let written = 0;
    const writeSome = async (lines: number) => {
      let text = '';
      for (let index = 0; index < lines; index++) text += `outage line ${written + index}\n`;
      await appendFile(run.logFile, text);
      written += lines;
    };
    await writeSome(1_000);
    await waitFor('first lines indexed', async () => ((await count(server as LocalOpenSearch, run.dataStream)) === 1_000 ? true : undefined), 120_000, 200);
    await server.kill();
    for (let second = 0; second < 60; second++) {
      await writeSome(100);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    await server.restart();
    await waitFor(
      'every line indexed after the outage',
      async () => ((await count(server as LocalOpenSearch, run.dataStream)) === written ? true : undefined),
      180_000,
      500,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${run.collectorPort}/metrics`)).text();
    expect(metricValue(metrics, 'tributary_component_errors_total', { component_id: 'search', reason: 'sink_unavailable' })).toBeGreaterThan(0);
    // Sent once each: the collector stayed in its group through the outage (no replayed steps).
    expect(metricValue(metrics, 'tributary_component_sent_events_total', { component_id: 'search' })).toBe(written);
    // Bounded memory: the collector waited instead of buffering what kept arriving in Kafka.
    const status = await readFile(`/proc/${collector.child.pid ?? 0}/status`, 'utf8');
    expect(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024).toBeLessThan(300);
  }, 400_000);

  it('dead-letters a record that violates the mapping and indexes the rest of its bulk', async () => {
    if (!server) throw new Error('no server');
    const run = await pipeline('mapping', { parsers: [{ match: {}, parser: { type: 'json' } }] });
    await run.startCollector();
    await run.startAgent();
    // `count` is mapped as a number by the first document; "many" cannot be indexed into it.
    await appendFile(run.logFile, '{"msg":"first","count":5}\n{"msg":"second","count":"many"}\n{"msg":"third","count":7}\n');
    await waitFor('two documents indexed', async () => ((await count(server as LocalOpenSearch, run.dataStream)) === 2 ? true : undefined), 120_000, 200);
    const [letter] = await readTopic(run.dlqTopic, 1);
    expect(letter?.headers['tributary.dlq.reason']).toMatch(/^output search: .*(mapper_parsing_exception|document_parsing_exception)/);
    expect(String(letter?.value)).toContain('"second"');
  }, 180_000);
});
