import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARD_FILE, renderDashboard, tributaryDashboard, type DashboardPanel } from '../../deploy/monitoring/grafana/dashboard.js';
import { packageRoot } from '../../shared/paths.js';
import { brokers, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';
import { queryPrometheus, startPrometheus, type RunningServer } from '../helpers/prometheus.js';

const run = promisify(execFile);
const RULES_DIR = join(packageRoot(), 'deploy', 'monitoring', 'prometheus');
const RULES_FILE = join(RULES_DIR, 'tributary-rules.yml');

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }>;
}

/**
 * Metric names a PromQL expression reads: every `tributary_…` token that is not a label name (followed by a
 * matcher operator). Recording rules' outputs (`tributary:…`) are not scraped names and do not match.
 */
function metricNames(expr: string): string[] {
  // Label lists of aggregations and vector matching name labels, not metrics.
  const withoutLabelLists = expr.replaceAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...withoutLabelLists.matchAll(/\b(tributary_[a-zA-Z0-9_]+)\b(?!\s*(?:=|!=|=~|!~))/g)].map((match) => match[1] ?? '');
}

/** Families a /metrics page declares, by `# TYPE` line, with their type. */
function declaredFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1] ?? '', match[2] ?? '');
  return families;
}

/** Whether `name` is a family, or a histogram's/summary's `_bucket`, `_sum` or `_count` series. */
function isExposed(name: string, families: ReadonlyMap<string, string>): boolean {
  if (families.has(name)) return true;
  const suffix = /_(bucket|sum|count)$/.exec(name);
  if (suffix === null) return false;
  const type = families.get(name.slice(0, -suffix[0].length));
  return type === 'histogram' || (type === 'summary' && suffix[1] !== 'bucket');
}

/** The dashboard's queries as Prometheus runs them once Grafana has filled in its variables. */
function concreteQueries(panels: readonly DashboardPanel[]): Array<{ panel: string; expr: string }> {
  return panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr.replaceAll('$instance', '.+').replaceAll('$__rate_interval', '20s') })),
  );
}

/** Panels a healthy pipeline that is shipping lines and scraping the host must show data in. */
const PANELS_WITH_DATA_WHEN_HEALTHY = [
  'Events read',
  'Events acknowledged by Kafka',
  'Bytes to Kafka',
  'File lag',
  'Checkpoint age',
  'Buffer and spool use',
  'Kafka produce latency (p99)',
  'Events consumed',
  'Records delivered per output',
  'Consumer lag',
  'Output latency (p99)',
  'Event-loop delay',
  'Resident memory',
  'CPU',
];

describe('monitoring for Tributary itself: Prometheus rules and the Grafana dashboard', () => {
  it('the rules pass promtool check rules and their unit tests', async () => {
    const check = await run('promtool', ['check', 'rules', RULES_FILE]);
    expect(check.stdout).toContain('SUCCESS: 12 rules found');
    // promtool runs the tests relative to the test file's directory, where the rules file is named.
    const tests = await run('promtool', ['test', 'rules', 'tributary-rules.test.yml'], { cwd: RULES_DIR });
    expect(tests.stdout).toContain('SUCCESS');
  });

  it('every alert has a promtool test that expects it to fire', async () => {
    const rules = parse(await readFile(RULES_FILE, 'utf8')) as RuleFile;
    const tested = await readFile(join(RULES_DIR, 'tributary-rules.test.yml'), 'utf8');
    const alerts = rules.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.alert === undefined ? [] : [rule.alert])));
    expect(alerts).toHaveLength(11);
    for (const alert of alerts) expect(tested, `${alert} has no test`).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });

  it('the committed dashboard is what dashboard.ts renders (edit the code, then `npm run dashboards`)', async () => {
    expect(await readFile(DASHBOARD_FILE, 'utf8')).toBe(renderDashboard());
    const panels = tributaryDashboard().panels as DashboardPanel[];
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    // Panels of one grid line never overlap and never pass the 24-column width.
    for (const panel of panels) expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
  });

  describe('against a running agent and collector, scraped and evaluated by a real Prometheus', () => {
    let dir: string;
    let agent: RunningProcess | undefined;
    let collector: RunningProcess | undefined;
    let prometheus: RunningServer | undefined;
    let writer: NodeJS.Timeout | undefined;
    let agentUrl: string;
    let collectorUrl: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tributary-monitoring-'));
      const logDir = join(dir, 'logs');
      await mkdir(logDir);
      const rawLogs = uniqueName('monitoring-raw-logs');
      const rawMetrics = uniqueName('monitoring-raw-metrics');
      const [agentPort, collectorPort] = [await freePort(), await freePort()];
      agentUrl = `http://127.0.0.1:${agentPort}`;
      collectorUrl = `http://127.0.0.1:${collectorPort}`;
      const agentConfig = await writeYaml(join(dir, 'agent.yaml'), {
        agent: { id: 'monitoring', data_dir: join(dir, 'agent-data') },
        kafka: { brokers: brokers() },
        sources: {
          app: { type: 'file', include: [join(logDir, '*.log')] },
          host: { type: 'host_metrics', interval: '1s', collectors: ['cpu', 'memory'] },
        },
        output: { topic: rawLogs },
        metrics_output: { topic: rawMetrics },
        telemetry: { port: agentPort },
      });
      const collectorConfig = await writeYaml(join(dir, 'collector.yaml'), {
        collector: { group_id: uniqueName('monitoring') },
        kafka: { brokers: brokers() },
        input: { topics: [rawLogs, rawMetrics] },
        outputs: {
          normalized: { type: 'kafka_topics', logs_topic: uniqueName('monitoring-logs'), metrics_topic: uniqueName('monitoring-metrics') },
        },
        alerting: {
          rules_files: [join(packageRoot(), 'deploy', 'examples', 'rules', 'alerts.yaml')],
          alerts_topic: { topic: uniqueName('monitoring-alerts') },
        },
        telemetry: { port: collectorPort },
      });
      collector = startCli('collector', collectorConfig);
      agent = startCli('agent', agentConfig);
      await waitUntilReady(collector, collectorUrl);
      await waitUntilReady(agent, agentUrl);
      // A steady trickle of lines, so rates over the dashboard's window are never empty while the test looks.
      let line = 0;
      writer = setInterval(() => void appendFile(join(logDir, 'app.log'), `line ${line++}\n`), 100);
      prometheus = await startPrometheus(
        [
          { job_name: 'tributary-agent', static_configs: [{ targets: [`127.0.0.1:${agentPort}`] }] },
          { job_name: 'tributary-collector', static_configs: [{ targets: [`127.0.0.1:${collectorPort}`] }] },
        ],
        [RULES_FILE],
      );
    }, 180_000);

    afterAll(async () => {
      clearInterval(writer);
      await agent?.stop('SIGKILL');
      await collector?.stop('SIGKILL');
      await prometheus?.stop();
    });

    it('every metric a rule or panel reads is exposed by the agent or the collector', async () => {
      const families = new Map([
        ...declaredFamilies(await (await fetch(`${agentUrl}/metrics`)).text()),
        ...declaredFamilies(await (await fetch(`${collectorUrl}/metrics`)).text()),
      ]);
      const rules = parse(await readFile(RULES_FILE, 'utf8')) as RuleFile;
      const used = new Set([
        ...rules.groups.flatMap((group) => group.rules.flatMap((rule) => metricNames(rule.expr))),
        ...(tributaryDashboard().panels as DashboardPanel[]).flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricNames(target.expr))),
        ...metricNames(JSON.stringify(tributaryDashboard().templating)),
      ]);
      // The extraction must itself find names, or this test proves nothing.
      expect(used.size).toBeGreaterThanOrEqual(15);
      const missing = [...used].filter((name) => !isExposed(name, families)).sort();
      expect(missing).toEqual([]);
    });

    it('Prometheus evaluates every rule without error', async () => {
      const rules = await waitFor(
        'every rule evaluated',
        async () => {
          const response = (await (await fetch(`${prometheus?.url}/api/v1/rules`)).json()) as {
            data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; lastEvaluation: string }> }> };
          };
          const all = response.data.groups.flatMap((group) => group.rules);
          return all.length > 0 && all.every((rule) => !rule.lastEvaluation.startsWith('0001')) ? all : undefined;
        },
        30_000,
        250,
      );
      expect(rules).toHaveLength(12);
      expect(rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.lastError ?? rule.health}`)).toEqual([]);
    });

    it('every dashboard query runs, and the panels of a healthy pipeline show data', async () => {
      const queries = concreteQueries(tributaryDashboard().panels as DashboardPanel[]);
      expect(queries.length).toBeGreaterThanOrEqual(22);
      const withData = await waitFor(
        'the panels of a healthy pipeline to show data',
        async () => {
          const panels = new Set<string>();
          for (const query of queries) if ((await queryPrometheus(prometheus as RunningServer, query.expr)).length > 0) panels.add(query.panel);
          return PANELS_WITH_DATA_WHEN_HEALTHY.every((panel) => panels.has(panel)) ? panels : undefined;
        },
        90_000,
        1_000,
      ).catch(async (error: unknown) => {
        const empty = [];
        for (const query of queries) if ((await queryPrometheus(prometheus as RunningServer, query.expr)).length === 0) empty.push(query.panel);
        throw new Error(`${String(error)}; panels without data: ${empty.join(', ')}`);
      });
      expect(PANELS_WITH_DATA_WHEN_HEALTHY.filter((panel) => !withData.has(panel))).toEqual([]);
      // The instance variable's own query lists both processes.
      const instances = await queryPrometheus(prometheus as RunningServer, 'count by (instance) (tributary_process_start_time_seconds)');
      expect(instances).toHaveLength(2);
    });

    it('no alert about Tributary is pending or firing on a healthy pipeline', async () => {
      // Right after start-up a rate has one sample and AgentNotShipping may go pending for an evaluation or two
      // (its `for: 10m` is there for that); a healthy pipeline must settle with none pending.
      const alerts = async () =>
        (await queryPrometheus(prometheus as RunningServer, 'ALERTS{alertname=~"Tributary.*"}')).map(
          (series) => `${series.metric.alertname ?? ''} ${series.metric.alertstate ?? ''} ${series.metric.instance ?? ''}`,
        );
      const settled = await waitFor('no Tributary alert pending', async () => ((await alerts()).length === 0 ? true : undefined), 30_000, 500).catch(
        () => false,
      );
      expect(settled ? [] : await alerts()).toEqual([]);
    });
  });
});
