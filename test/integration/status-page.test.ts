import { appendFile, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../shared/paths.js';
import type { ProcessStatus, StatusRow, StatusTable } from '../../shared/telemetry/status.js';
import { brokers, messageCount, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/** Debian's chromium (deploy/dev/system-packages.sh installs it); playwright-core drives it, no browser download. */
const CHROMIUM = process.env.TRIBUTARY_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots are kept here for a human to look at after the run (not compared: fonts differ between hosts). */
const ARTIFACTS = join(packageRoot(), 'test-results');

async function status(url: string): Promise<ProcessStatus> {
  const response = await fetch(`${url}/status.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as ProcessStatus;
}

function table(document: ProcessStatus, id: string): StatusTable {
  const found = document.tables.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no ${id} table in ${document.tables.map((candidate) => candidate.id).join(', ')}`);
  return found;
}

function row(document: ProcessStatus, id: string, match: (row: StatusRow) => boolean): StatusRow | undefined {
  return table(document, id).rows.find(match);
}

/** The text of one cell of the page, by table, row key and column (what an operator reads). */
async function cellText(page: Page, tableId: string, rowKey: string, column: string): Promise<string | null> {
  const cell = page.locator(`section[data-table="${tableId}"] tr[data-key="${rowKey}"] td[data-column="${column}"]`);
  // The cell's own text, without the rate shown beside a counter (the test's tsconfig has no DOM types).
  return (await cell.count()) === 0
    ? null
    : cell.first().evaluate((element: { firstChild: { textContent: string | null } | null }) => element.firstChild?.textContent ?? '');
}

/**
 * The status page of a running agent and collector, read as JSON and rendered by a real headless browser:
 * the numbers are the processes' live ones, the page updates itself, and hostile file names stay text.
 */
describe('status page and status.json (real agent and collector, headless chromium)', () => {
  let dir: string;
  let logDir: string;
  let agent: RunningProcess | undefined;
  let collector: RunningProcess | undefined;
  let browser: Browser | undefined;
  let agentUrl: string;
  let collectorUrl: string;
  let rawTopic: string;
  let logsTopic: string;
  // A name a careless page would turn into markup and run.
  const hostileName = `<img src=x onerror="document.title='pwned'">.log`;
  const plainName = 'app.log';
  // Each file's own name in its lines: files whose first lines are equal are one file to the default fingerprint.
  const lines = (count: number, from = 0, file = plainName) => Array.from({ length: count }, (_, index) => `${file} line ${from + index}\n`).join('');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-status-'));
    logDir = join(dir, 'logs');
    await mkdir(logDir);
    await mkdir(ARTIFACTS, { recursive: true });
    await appendFile(join(logDir, plainName), lines(100));
    await appendFile(join(logDir, hostileName), lines(40, 0, 'hostile'));
    rawTopic = uniqueName('status-raw');
    logsTopic = uniqueName('status-logs');
    const [agentPort, collectorPort] = [await freePort(), await freePort()];
    agentUrl = `http://127.0.0.1:${agentPort}`;
    collectorUrl = `http://127.0.0.1:${collectorPort}`;
    const collectorConfig = await writeYaml(join(dir, 'collector.yaml'), {
      collector: { group_id: uniqueName('status'), instance_name: 'status-test' },
      kafka: { brokers: brokers() },
      input: { topics: [rawTopic] },
      outputs: { normalized: { type: 'kafka_topics', logs_topic: logsTopic } },
      alerting: { rules_files: [join(packageRoot(), 'deploy', 'examples', 'rules', 'alerts.yaml')], alerts_topic: { topic: uniqueName('status-alerts') } },
      telemetry: { port: collectorPort },
    });
    const agentConfig = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'status-agent', data_dir: join(dir, 'agent-data') },
      kafka: { brokers: brokers() },
      sources: {
        app: { type: 'file', include: [join(logDir, '*.log')] },
        // The collector's own telemetry is a real scrape target; the second target refuses connections.
        self: {
          type: 'prometheus_scrape',
          scrape_configs: [
            { job_name: 'collector', scrape_interval: '1s', static_configs: [{ targets: [`127.0.0.1:${collectorPort}`, `127.0.0.1:${await freePort()}`] }] },
          ],
        },
      },
      output: { topic: rawTopic },
      metrics_output: { topic: uniqueName('status-raw-metrics') },
      telemetry: { port: agentPort },
    });
    collector = startCli('collector', collectorConfig);
    agent = startCli('agent', agentConfig);
    await waitUntilReady(collector, collectorUrl);
    await waitUntilReady(agent, agentUrl);
    // As root (CI) chromium's sandbox cannot start; the pages opened are our own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop('SIGKILL');
    await collector?.stop('SIGKILL');
  });

  it('the agent reports every file with its read and acknowledged offsets, its targets and its outputs', async () => {
    const sizes = { [plainName]: (await stat(join(logDir, plainName))).size, [hostileName]: (await stat(join(logDir, hostileName))).size };
    const document = await waitFor(
      'both files acknowledged to their end and both targets scraped',
      async () => {
        const current = await status(agentUrl);
        const done = Object.entries(sizes).every(([name, size]) => row(current, 'files', (file) => file.path === join(logDir, name))?.acked_offset === size);
        const scraped = table(current, 'scrape_targets').rows.filter((target) => target.health !== 'not scraped yet').length === 2;
        return done && scraped ? current : undefined;
      },
      60_000,
      250,
    ).catch(async (error: unknown) => {
      const last = await status(agentUrl);
      throw new Error(
        `${String(error)}\nfiles: ${JSON.stringify(table(last, 'files').rows)}\ntargets: ${JSON.stringify(table(last, 'scrape_targets').rows)}\n${agent?.stderr().slice(-3000) ?? ''}`,
      );
    });
    expect(document).toMatchObject({ process: 'agent', id: 'status-agent', ready: true, problems: [] });
    for (const [name, size] of Object.entries(sizes)) {
      expect(row(document, 'files', (file) => file.path === join(logDir, name))).toMatchObject({
        source: 'app',
        state: 'active',
        size,
        read_offset: size,
        acked_offset: size,
        lag_bytes: 0,
      });
    }
    const targets = table(document, 'scrape_targets').rows;
    expect(targets.map((target) => target.health).sort()).toEqual(['down', 'up']);
    expect(targets.find((target) => target.health === 'down')?.error).toMatch(/ECONNREFUSED|connect/);
    expect(table(document, 'kafka_outputs').rows.map((output) => [output.output, output.topic, output.connected])).toEqual([
      ['kafka', rawTopic, true],
      ['metrics_kafka', expect.any(String), true],
    ]);
    // 140 lines read by the file source, all acknowledged: the components table is /metrics, per component.
    expect(row(document, 'components', (component) => component.component === 'app')).toMatchObject({ kind: 'source', type: 'file', received: 140, sent: 140 });
    expect(row(document, 'reasons', (reason) => reason.component === 'self' && reason.reason === 'scrape')?.count).toBeGreaterThan(0);
  });

  it('the collector reports its partitions, steps, outputs and alerts', async () => {
    await waitFor('140 records normalized', async () => ((await messageCount(logsTopic)) === 140 ? true : undefined), 60_000, 250);
    const document = await waitFor(
      'the collector to count 140 records out',
      async () => {
        const current = await status(collectorUrl);
        return row(current, 'components', (component) => component.component === 'normalized')?.sent === 140 ? current : undefined;
      },
      30_000,
      250,
    );
    expect(document).toMatchObject({ process: 'collector', ready: true });
    expect(document.id).toMatch(/^status-[\w-]+\/status-test$/);
    const partitions = table(document, 'partitions').rows.filter((partition) => partition.topic === rawTopic);
    expect(partitions.length).toBeGreaterThan(0);
    expect(partitions.every((partition) => partition.lag === 0)).toBe(true);
    const steps = table(document, 'steps').rows.filter((step) => step.topic === rawTopic);
    expect(steps.reduce((sum, step) => sum + Number(step.messages), 0)).toBeGreaterThan(0);
    expect(steps.every((step) => typeof step.last_duration_seconds === 'number' && step.last_duration_seconds >= 0)).toBe(true);
    expect(table(document, 'alerts').rows).toEqual([]);
  });

  it('renders the live numbers in a browser, updates them while open, and keeps hostile names as text', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1100 } });
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const response = await page.goto(`${agentUrl}/status`);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    const plainKey = (await status(agentUrl)).tables.find((candidate) => candidate.id === 'files')?.rows.find((file) => file.path === join(logDir, plainName));
    const key = `app/${String(plainKey?.file_id)}`;
    await page.waitForSelector(`section[data-table="files"] tr[data-key="${key}"]`, { timeout: 30_000 });
    const sizeBefore = (await stat(join(logDir, plainName))).size;
    expect(await cellText(page, 'files', key, 'acked_offset')).toBe(`${(sizeBefore / 1024).toFixed(1)} KiB`);
    expect(await page.locator('h1').textContent()).toContain('status-agent');
    expect(await page.locator('.badge').textContent()).toBe('ready');

    // More lines arrive while the page is open: it shows the new acknowledged offset without a reload.
    await appendFile(join(logDir, plainName), lines(200, 100));
    const sizeAfter = (await stat(join(logDir, plainName))).size;
    await waitFor(
      'the page to show the new offset',
      async () => ((await cellText(page, 'files', key, 'acked_offset')) === `${(sizeAfter / 1024).toFixed(1)} KiB` ? true : undefined),
      30_000,
      250,
    );
    // Counters show a rate once two polls have been seen.
    expect(await page.locator('section[data-table="components"] .rate').count()).toBeGreaterThan(0);

    // The hostile file name is shown as the text it is: no element was made from it, nothing ran.
    expect(await page.getByText(join(logDir, hostileName), { exact: true }).count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'status-agent.png'), fullPage: true });

    const collectorPage = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1100 } });
    await collectorPage.goto(`${collectorUrl}/status`);
    await collectorPage.waitForSelector('section[data-table="partitions"] tbody tr', { timeout: 30_000 });
    await collectorPage.waitForSelector('section[data-table="steps"] tbody tr', { timeout: 30_000 });
    expect(await collectorPage.locator('section[data-table="components"] tr[data-key="normalized"]').count()).toBe(1);
    await collectorPage.screenshot({ path: join(ARTIFACTS, 'status-collector.png'), fullPage: true });
  });
});
