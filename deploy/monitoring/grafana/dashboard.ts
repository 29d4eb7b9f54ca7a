/**
 * The Grafana dashboard for Tributary's own health, written as code and rendered to `tributary.json`
 * (`npm run dashboards`): panels are built from a few helpers, so every query filters by the same variables
 * and every panel has the same shape, which hand-edited JSON drifts away from. A test renders it again and
 * compares with the committed file, and checks every query against a running agent and collector.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../../shared/paths.js';

export interface DashboardTarget {
  expr: string;
  legendFormat: string;
  refId: string;
  datasource: { type: 'prometheus'; uid: '${datasource}' };
}

export interface DashboardPanel {
  id: number;
  type: 'timeseries' | 'row' | 'stat';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: 'prometheus'; uid: '${datasource}' };
  targets?: DashboardTarget[];
  fieldConfig?: { defaults: { unit: string; min?: number; max?: number }; overrides: [] };
  options?: Record<string, unknown>;
  collapsed?: boolean;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** Label matchers every query carries: the process kind and the chosen instances. */
function selector(process: 'agent' | 'collector' | 'any', extra = ''): string {
  const matchers = [`instance=~"$instance"`];
  if (process !== 'any') matchers.unshift(`tributary_process="${process}"`);
  if (extra !== '') matchers.push(extra);
  return `{${matchers.join(', ')}}`;
}

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Array<{ expr: string; legend: string }>;
  /** Width in grid columns (24 per row); defaults to a third. */
  width?: number;
  max?: number;
}

class DashboardLayout {
  readonly panels: DashboardPanel[] = [];
  private nextId = 1;
  private x = 0;
  private y = 0;
  private rowHeight = 0;

  row(title: string): void {
    this.newLine();
    this.panels.push({ id: this.nextId++, type: 'row', title, collapsed: false, gridPos: { x: 0, y: this.y, w: 24, h: 1 } });
    this.y += 1;
  }

  panel(spec: PanelSpec): void {
    const width = spec.width ?? 8;
    const height = 8;
    if (this.x + width > 24) this.newLine();
    this.panels.push({
      id: this.nextId++,
      type: 'timeseries',
      title: spec.title,
      description: spec.description,
      gridPos: { x: this.x, y: this.y, w: width, h: height },
      datasource: DATASOURCE,
      targets: spec.queries.map((query, index) => ({
        expr: query.expr,
        legendFormat: query.legend,
        refId: String.fromCharCode(65 + index),
        datasource: DATASOURCE,
      })),
      fieldConfig: { defaults: { unit: spec.unit, min: 0, ...(spec.max === undefined ? {} : { max: spec.max }) }, overrides: [] },
      options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    });
    this.x += width;
    this.rowHeight = Math.max(this.rowHeight, height);
  }

  private newLine(): void {
    this.y += this.rowHeight;
    this.x = 0;
    this.rowHeight = 0;
  }
}

const RATE = '[$__rate_interval]';

/** The dashboard model Grafana imports (schemaVersion 39: Grafana 10 and 11). */
export function tributaryDashboard(): Record<string, unknown> {
  const layout = new DashboardLayout();

  layout.row('Agents: files and scrapes to Kafka');
  layout.panel({
    title: 'Events read',
    description: 'Lines and scraped samples the sources read, per second.',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (instance, component_id) (rate(tributary_component_received_events_total${selector('agent', 'component_kind="source"')}${RATE}))`,
        legend: '{{instance}} {{component_id}}',
      },
    ],
  });
  layout.panel({
    title: 'Events acknowledged by Kafka',
    description: 'Events in frames Kafka acknowledged, per second: what has really been shipped.',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (instance, component_id) (rate(tributary_component_sent_events_total${selector('agent', 'component_kind="sink"')}${RATE}))`,
        legend: '{{instance}} {{component_id}}',
      },
    ],
  });
  layout.panel({
    title: 'Bytes to Kafka',
    description: 'Compressed frame bytes acknowledged by Kafka, per second.',
    unit: 'Bps',
    queries: [
      { expr: `sum by (instance) (rate(tributary_component_sent_bytes_total${selector('agent', 'component_kind="sink"')}${RATE}))`, legend: '{{instance}}' },
    ],
  });
  layout.panel({
    title: 'File lag',
    description: 'Bytes of tailed files not yet acknowledged by Kafka: grows when Kafka is slow or away.',
    unit: 'bytes',
    queries: [
      { expr: `sum by (instance) (tributary_file_lag_bytes${selector('agent')})`, legend: '{{instance}}' },
      { expr: `topk(5, tributary_file_lag_bytes${selector('agent')})`, legend: '{{instance}} {{file}}' },
    ],
  });
  layout.panel({
    title: 'Checkpoint age',
    description: 'Seconds since the checkpoint file was last written; it is written every interval, so growth means failing writes.',
    unit: 's',
    queries: [{ expr: `max by (instance) (tributary_checkpoint_age_seconds${selector('agent')})`, legend: '{{instance}}' }],
  });
  layout.panel({
    title: 'Buffer and spool use',
    description: 'Bytes waiting for Kafka as a share of their cap: buffer_max_bytes for files, spool.max_bytes for metrics.',
    unit: 'percentunit',
    max: 1,
    queries: [
      {
        expr: `max by (instance, component_id) (tributary_component_buffered_bytes${selector('agent')} / tributary_component_buffer_limit_bytes${selector('agent')})`,
        legend: '{{instance}} {{component_id}}',
      },
    ],
  });
  layout.panel({
    title: 'Kafka produce latency (p99)',
    description: 'The 99th percentile of produce request latency, acks included.',
    unit: 's',
    queries: [
      {
        expr: `histogram_quantile(0.99, sum by (instance, le) (rate(tributary_component_request_duration_seconds_bucket${selector('agent', 'component_kind="sink"')}${RATE})))`,
        legend: '{{instance}}',
      },
    ],
  });
  layout.panel({
    title: 'Agent drops by reason',
    description: 'Events discarded, per second, by component and reason (timestamp_fallback is kept, not dropped, and left out).',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (instance, component_id, reason) (rate(tributary_component_discarded_events_total${selector('agent', 'reason!="timestamp_fallback"')}${RATE}))`,
        legend: '{{instance}} {{component_id}} {{reason}}',
      },
    ],
  });
  layout.panel({
    title: 'Agent errors by reason',
    description: 'Errors, per second, retried ones included: Kafka unavailable, scrape failures, checkpoint writes.',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (instance, component_id, reason) (rate(tributary_component_errors_total${selector('agent')}${RATE}))`,
        legend: '{{instance}} {{component_id}} {{reason}}',
      },
    ],
  });

  layout.row('Collectors: raw topics to outputs');
  layout.panel({
    title: 'Events consumed',
    description: 'Events read from the raw topics, per second.',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (instance) (rate(tributary_component_received_events_total${selector('collector', 'component_kind="source"')}${RATE}))`,
        legend: '{{instance}}',
      },
    ],
  });
  layout.panel({
    title: 'Records delivered per output',
    description: 'Records each output (and the dead-letter topic) had acknowledged, per second.',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (component_id) (rate(tributary_component_sent_events_total${selector('collector', 'component_kind="sink"')}${RATE}))`,
        legend: '{{component_id}}',
      },
    ],
  });
  layout.panel({
    title: 'Consumer lag',
    description: 'Messages behind the end of each raw topic, counted once per partition.',
    unit: 'short',
    queries: [{ expr: `sum by (topic) (max by (topic, partition) (tributary_consumer_lag_messages${selector('collector')}))`, legend: '{{topic}}' }],
  });
  layout.panel({
    title: 'Output latency (p99)',
    description: 'The 99th percentile of each output’s write requests (bulk, update, append, produce).',
    unit: 's',
    queries: [
      {
        expr: `histogram_quantile(0.99, sum by (component_id, le) (rate(tributary_component_request_duration_seconds_bucket${selector('collector', 'component_kind="sink"')}${RATE})))`,
        legend: '{{component_id}}',
      },
    ],
  });
  layout.panel({
    title: 'Output errors and retries',
    description: 'Failed requests by output and reason, and events sent again after a retriable failure, per second.',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (component_id, reason) (rate(tributary_component_errors_total${selector('collector', 'component_kind="sink"')}${RATE}))`,
        legend: '{{component_id}} {{reason}}',
      },
      { expr: `sum by (component_id) (rate(tributary_component_retried_events_total${selector('collector')}${RATE}))`, legend: '{{component_id}} retried' },
    ],
  });
  layout.panel({
    title: 'Dead letters by reason',
    description: 'Records sent to the dead-letter topic, per second, by why (frame_invalid, frame_too_large, sink_rejected).',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (component_id, reason) (rate(tributary_component_discarded_events_total${selector('collector', 'reason=~"frame_invalid|frame_too_large|sink_rejected"')}${RATE}))`,
        legend: '{{component_id}} {{reason}}',
      },
    ],
  });
  layout.panel({
    title: 'Collector drops by reason',
    description: 'Other discards, per second: alert samples out of bounds, records over caps.',
    unit: 'ops',
    queries: [
      {
        expr: `sum by (component_id, reason) (rate(tributary_component_discarded_events_total${selector('collector', 'reason!~"timestamp_fallback|frame_invalid|frame_too_large|sink_rejected"')}${RATE}))`,
        legend: '{{component_id}} {{reason}}',
      },
    ],
  });
  layout.panel({
    title: 'Alerts',
    description: 'Alerts pending and firing, owned by each collector.',
    unit: 'short',
    queries: [{ expr: `sum by (state) (tributary_alerts${selector('collector')})`, legend: '{{state}}' }],
  });
  layout.panel({
    title: 'Alert notifications',
    description: 'Notifications by notifier and outcome, per second.',
    unit: 'ops',
    queries: [
      { expr: `sum by (notifier, outcome) (rate(tributary_alert_notifications_total${selector('collector')}${RATE}))`, legend: '{{notifier}} {{outcome}}' },
    ],
  });

  layout.row('Processes');
  layout.panel({
    title: 'Event-loop delay',
    description: 'The 99th percentile and the maximum of event-loop delay since the previous scrape: a blocked loop delays heartbeats and probes.',
    unit: 's',
    queries: [
      { expr: `max by (instance) (tributary_event_loop_delay_seconds${selector('any', 'quantile="0.99"')})`, legend: '{{instance}} p99' },
      { expr: `max by (instance) (tributary_event_loop_delay_seconds${selector('any', 'quantile="1"')})`, legend: '{{instance}} max' },
    ],
  });
  layout.panel({
    title: 'Resident memory',
    description: 'RSS of each process.',
    unit: 'bytes',
    queries: [
      {
        expr: `max by (instance, tributary_process) (tributary_process_resident_memory_bytes${selector('any')})`,
        legend: '{{instance}} {{tributary_process}}',
      },
    ],
  });
  layout.panel({
    title: 'CPU',
    description: 'CPU seconds per second (1 = one core).',
    unit: 'short',
    queries: [
      {
        expr: `sum by (instance, tributary_process) (rate(tributary_process_cpu_seconds_total${selector('any')}${RATE}))`,
        legend: '{{instance}} {{tributary_process}}',
      },
    ],
  });

  return {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    title: 'Tributary',
    uid: 'tributary-overview',
    description: 'Agents and collectors of a Tributary pipeline: throughput, lag, drops, outputs, alerts and the processes themselves.',
    tags: ['tributary', 'logs', 'kafka'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    schemaVersion: 39,
    time: { from: 'now-3h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        {
          name: 'instance',
          label: 'Instance',
          type: 'query',
          datasource: DATASOURCE,
          query: { query: 'label_values(tributary_process_start_time_seconds, instance)', refId: 'instances' },
          definition: 'label_values(tributary_process_start_time_seconds, instance)',
          includeAll: true,
          multi: true,
          allValue: '.+',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
          sort: 1,
        },
      ],
    },
    annotations: { list: [] },
    panels: layout.panels,
  };
}

/** The committed file's text: two-space JSON with a final newline, so diffs stay readable. */
export function renderDashboard(): string {
  return `${JSON.stringify(tributaryDashboard(), null, 2)}\n`;
}

export const DASHBOARD_FILE = join(packageRoot(), 'deploy', 'monitoring', 'grafana', 'tributary.json');

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(DASHBOARD_FILE, renderDashboard());
  process.stdout.write(`wrote ${DASHBOARD_FILE}\n`);
}
