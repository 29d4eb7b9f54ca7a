import { hostname } from 'node:os';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { TRIBUTARY_VERSION } from '../version.js';
import type { HealthState } from './http-server.js';

/**
 * What `/status.json` serves and `/status` and `tributary top` draw: a process's identity and health, then
 * tables. Every table is data, not layout: rows are objects keyed by column, so the JSON serves machines as
 * well as the page, and one renderer draws any table either tier contributes.
 */
export type StatusValue = string | number | boolean | null;
export type StatusRow = Readonly<Record<string, StatusValue>>;

export interface StatusColumn {
  readonly key: string;
  readonly label: string;
  /**
   * How to show the value: `bytes`, `seconds`, `count`; `total` is a counter, which renderers also turn into a
   * per-second rate from the change between two polls (the JSON keeps the total, so nothing is lost to sampling).
   */
  readonly unit?: 'bytes' | 'seconds' | 'count' | 'total' | 'time';
}

export interface StatusTableSpec {
  readonly id: string;
  readonly title: string;
  readonly columns: readonly StatusColumn[];
  /** Columns that together name a row, so renderers can match rows across polls to compute rates. */
  readonly key: readonly string[];
}

export interface StatusTable extends StatusTableSpec {
  readonly rows: readonly StatusRow[];
}

export interface ProcessStatus {
  readonly process: 'agent' | 'collector';
  /** `agent.id`, or the collector's group and instance. */
  readonly id: string;
  readonly version: string;
  readonly host: string;
  readonly pid: number;
  readonly started_at: string;
  readonly now: string;
  readonly ready: boolean;
  /** Failed components, as /readyz lists them. */
  readonly problems: readonly string[];
  readonly tables: readonly StatusTable[];
}

/** Rows a component adds to one of the tables of its process. */
export interface StatusContribution {
  readonly table: StatusTableSpec;
  readonly rows: readonly StatusRow[];
}

/** A component with something to show on the status page beyond its metrics (files, targets, alerts). */
export interface StatusReporter {
  statusRows(): readonly StatusContribution[];
}

/** Whether a component (of a kind that may or may not report) has status rows of its own. */
export function isStatusReporter(component: object): component is StatusReporter {
  return typeof (component as Partial<StatusReporter>).statusRows === 'function';
}

/** Rows per table, in the order the tables were first contributed; rows of a table from several components are joined. */
export function joinContributions(contributions: Iterable<StatusContribution>): StatusTable[] {
  const tables = new Map<string, { spec: StatusTableSpec; rows: StatusRow[] }>();
  for (const { table, rows } of contributions) {
    const entry = tables.get(table.id) ?? { spec: table, rows: [] };
    entry.rows.push(...rows);
    tables.set(table.id, entry);
  }
  return [...tables.values()].map(({ spec, rows }) => ({ ...spec, rows }));
}

type Labels = Partial<Record<string, string | number>>;

function valuesOf(families: readonly MetricObjectWithValues<MetricValue<string>>[], name: string): ReadonlyArray<{ labels: Labels; value: number }> {
  return families.find((family) => family.name === name)?.values ?? [];
}

const COMPONENTS_TABLE: StatusTableSpec = {
  id: 'components',
  title: 'Components',
  key: ['component'],
  columns: [
    { key: 'component', label: 'component' },
    { key: 'kind', label: 'kind' },
    { key: 'type', label: 'type' },
    { key: 'received', label: 'events in', unit: 'total' },
    { key: 'sent', label: 'events out', unit: 'total' },
    { key: 'sent_bytes', label: 'bytes out', unit: 'total' },
    { key: 'errors', label: 'errors', unit: 'total' },
    { key: 'discarded', label: 'discarded', unit: 'total' },
    { key: 'retried', label: 'retried', unit: 'total' },
    { key: 'buffered_bytes', label: 'buffered', unit: 'bytes' },
    { key: 'buffer_limit_bytes', label: 'buffer cap', unit: 'bytes' },
    { key: 'queued', label: 'queued', unit: 'count' },
  ],
};

const REASONS_TABLE: StatusTableSpec = {
  id: 'reasons',
  title: 'Errors and discards by reason',
  key: ['component', 'family', 'reason'],
  columns: [
    { key: 'component', label: 'component' },
    { key: 'family', label: 'what' },
    { key: 'reason', label: 'reason' },
    { key: 'count', label: 'count', unit: 'total' },
  ],
};

const PARTITIONS_TABLE: StatusTableSpec = {
  id: 'partitions',
  title: 'Assigned partitions',
  key: ['topic', 'partition'],
  columns: [
    { key: 'topic', label: 'topic' },
    { key: 'partition', label: 'partition' },
    { key: 'lag', label: 'lag (messages)', unit: 'count' },
  ],
};

/**
 * Tables both tiers derive from their own metric families: one row per component with its counters and
 * buffers, every error and discard by reason, and (collector) the partitions it consumes with their lag.
 * Read from the registry, so the page shows exactly what /metrics says.
 */
export async function metricTables(registry: Registry): Promise<StatusContribution[]> {
  const families = await registry.getMetricsAsJSON();
  const components = new Map<string, Record<string, StatusValue>>();
  const component = (labels: Labels): Record<string, StatusValue> | undefined => {
    const id = labels.component_id;
    if (id === undefined) return undefined;
    const key = String(id);
    let row = components.get(key);
    if (row === undefined) {
      row = { component: key, kind: String(labels.component_kind ?? ''), type: String(labels.component_type ?? '') };
      for (const column of COMPONENTS_TABLE.columns) if (column.unit !== undefined) row[column.key] = null;
      components.set(key, row);
    }
    return row;
  };
  const sum = (column: string, name: string): void => {
    for (const { labels, value } of valuesOf(families, name)) {
      const row = component(labels);
      if (row) row[column] = ((row[column] as number | null) ?? 0) + value;
    }
  };
  sum('received', 'tributary_component_received_events_total');
  sum('sent', 'tributary_component_sent_events_total');
  sum('sent_bytes', 'tributary_component_sent_bytes_total');
  sum('errors', 'tributary_component_errors_total');
  sum('discarded', 'tributary_component_discarded_events_total');
  sum('retried', 'tributary_component_retried_events_total');
  sum('buffered_bytes', 'tributary_component_buffered_bytes');
  sum('buffer_limit_bytes', 'tributary_component_buffer_limit_bytes');
  sum('queued', 'tributary_component_queued_events');

  const reasons: StatusRow[] = [];
  for (const [family, name] of [
    ['error', 'tributary_component_errors_total'],
    ['discarded', 'tributary_component_discarded_events_total'],
  ] as const) {
    for (const { labels, value } of valuesOf(families, name)) {
      if (value > 0) reasons.push({ component: String(labels.component_id ?? ''), family, reason: String(labels.reason ?? ''), count: value });
    }
  }

  const partitions = valuesOf(families, 'tributary_consumer_lag_messages')
    .map(({ labels, value }) => ({ topic: String(labels.topic ?? ''), partition: Number(labels.partition ?? 0), lag: value }))
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);

  const contributions: StatusContribution[] = [{ table: COMPONENTS_TABLE, rows: [...components.values()] }];
  if (partitions.length > 0) contributions.push({ table: PARTITIONS_TABLE, rows: partitions });
  contributions.push({ table: REASONS_TABLE, rows: reasons });
  return contributions;
}

export interface StatusSourceOptions {
  process: 'agent' | 'collector';
  id: string;
  registry: Registry;
  health: HealthState;
  /** Components with their own rows (files, scrape targets, alerts), asked at each request. */
  reporters: () => Iterable<StatusReporter>;
}

const STARTED_AT = new Date().toISOString();

/** The status document of one process, assembled on each request (a handful of map walks; no I/O). */
export async function processStatus(options: StatusSourceOptions): Promise<ProcessStatus> {
  const own = [...options.reporters()].flatMap((reporter) => reporter.statusRows());
  return {
    process: options.process,
    id: options.id,
    version: TRIBUTARY_VERSION,
    host: hostname(),
    pid: process.pid,
    started_at: STARTED_AT,
    now: new Date().toISOString(),
    ready: options.health.ready(),
    problems: options.health.problems?.() ?? [],
    // The components' own tables first (what an operator looks for), then the ones read from metrics.
    tables: joinContributions([...own, ...(await metricTables(options.registry))]),
  };
}
