import { describe, expect, it } from 'vitest';
import { startTelemetryServer } from './http-server.js';
import { PipelineMetrics } from './metrics.js';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.js';
import { joinContributions, metricTables, processStatus, type ProcessStatus, type StatusTableSpec } from './status.js';

const FILES: StatusTableSpec = { id: 'files', title: 'Files', key: ['path'], columns: [{ key: 'path', label: 'path' }] };
const TARGETS: StatusTableSpec = { id: 'targets', title: 'Targets', key: ['url'], columns: [{ key: 'url', label: 'url' }] };

function pipelineMetrics(): PipelineMetrics {
  const families = new PipelineMetrics('collector', undefined, { processMetrics: false });
  const input = families.component({ component_id: 'input', component_type: 'kafka', component_kind: 'source' });
  input.eventsIn.inc(10);
  input.consumerLag('raw', 1, 7);
  input.consumerLag('raw', 0, 3);
  const output = families.component({ component_id: 'es', component_type: 'elasticsearch', component_kind: 'sink' });
  output.eventsIn.inc(10);
  output.eventsOut.inc(8);
  output.bytesOut.inc(4096);
  output.error('sink_unavailable', 2);
  output.drop('sink_rejected', 2);
  output.retriedEvents.inc(5);
  output.bufferedBytes.set(512);
  output.bufferLimitBytes.set(1024);
  return families;
}

describe('status tables', () => {
  it('derive one row per component, every non-zero reason, and partitions by topic and number from the metrics', async () => {
    const tables = joinContributions(await metricTables(pipelineMetrics().registry));
    expect(tables.map((table) => table.id)).toEqual(['components', 'partitions', 'reasons']);
    const [components, partitions, reasons] = tables;
    expect(components?.rows).toEqual([
      {
        component: 'input',
        kind: 'source',
        type: 'kafka',
        received: 10,
        sent: null,
        sent_bytes: null,
        errors: null,
        discarded: null,
        retried: null,
        buffered_bytes: null,
        buffer_limit_bytes: null,
        queued: null,
      },
      {
        component: 'es',
        kind: 'sink',
        type: 'elasticsearch',
        received: 10,
        sent: 8,
        sent_bytes: 4096,
        errors: 2,
        discarded: 2,
        retried: 5,
        buffered_bytes: 512,
        buffer_limit_bytes: 1024,
        queued: null,
      },
    ]);
    expect(partitions?.rows).toEqual([
      { topic: 'raw', partition: 0, lag: 3 },
      { topic: 'raw', partition: 1, lag: 7 },
    ]);
    expect(reasons?.rows).toEqual([
      { component: 'es', family: 'error', reason: 'sink_unavailable', count: 2 },
      { component: 'es', family: 'discarded', reason: 'sink_rejected', count: 2 },
    ]);
  });

  it('join the rows several components give one table, in the order tables first appear', () => {
    const tables = joinContributions([
      { table: FILES, rows: [{ path: '/a' }] },
      { table: TARGETS, rows: [{ url: 'http://x' }] },
      { table: FILES, rows: [{ path: '/b' }] },
    ]);
    expect(tables).toEqual([
      { ...FILES, rows: [{ path: '/a' }, { path: '/b' }] },
      { ...TARGETS, rows: [{ url: 'http://x' }] },
    ]);
  });
});

describe('/status and /status.json on the telemetry server', () => {
  const health = { live: () => true, ready: () => false, problems: () => ['failed: source.app since … (restarts: 1): EACCES'] };

  it('serve the process document and a self-contained page under a CSP that allows only its own script and style', async () => {
    const families = pipelineMetrics();
    const server = await startTelemetryServer({ listen_address: '127.0.0.1', port: 0 }, families.registry, health, {
      status: () =>
        processStatus({
          process: 'collector',
          id: 'group/one',
          registry: families.registry,
          health,
          reporters: () => [{ statusRows: () => [{ table: FILES, rows: [{ path: '/x' }] }] }],
        }),
    });
    try {
      const json = await fetch(`${server.url}/status.json`);
      expect(json.headers.get('content-type')).toBe('application/json');
      const document = (await json.json()) as ProcessStatus;
      expect(document).toMatchObject({ process: 'collector', id: 'group/one', ready: false, problems: health.problems(), pid: process.pid });
      expect(document.tables.map((table) => table.id)).toEqual(['files', 'components', 'partitions', 'reasons']);

      const page = await fetch(`${server.url}/status`);
      expect(page.headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
      const html = await page.text();
      expect(html).toBe(STATUS_PAGE_HTML);
      // Nothing is loaded from elsewhere: no src or href attributes at all, and the script only fetches status.json.
      expect(html).not.toMatch(/\s(src|href)=/);
      expect(html).not.toContain('innerHTML');
      expect([...html.matchAll(/fetch\(([^,)]*)/g)].map((match) => match[1])).toEqual(["'status.json'"]);
      expect((await fetch(`${server.url}/`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('need the credentials /metrics needs, and are not served by a process that has no status', async () => {
    const families = pipelineMetrics();
    const guarded = await startTelemetryServer(
      { listen_address: '127.0.0.1', port: 0, auth: { bearer_token: 'let-me-in', probes: false } },
      families.registry,
      health,
      { status: () => processStatus({ process: 'agent', id: 'a', registry: families.registry, health, reporters: () => [] }) },
    );
    const bare = await startTelemetryServer({ listen_address: '127.0.0.1', port: 0 }, families.registry, health);
    try {
      expect((await fetch(`${guarded.url}/status.json`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/status`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/status.json`, { headers: { authorization: 'Bearer let-me-in' } })).status).toBe(200);
      expect((await fetch(`${bare.url}/status.json`)).status).toBe(404);
      expect(await (await fetch(`${bare.url}/nothing`)).text()).toBe('not found: try /metrics, /healthz or /readyz\n');
    } finally {
      await guarded.close();
      await bare.close();
    }
  });
});
