/**
 * Real Prometheus-ecosystem servers from Debian's packages (prometheus,
 * prometheus-node-exporter), started per test on free ports, and the
 * flattening of Tributary's raw metric events back into Prometheus samples so
 * the two can be compared series by series.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RawMetricEvent } from '../../shared/record/raw-event.js';
import { startServer, type RunningServer } from './processes.js';

export type { RunningServer };

/** node_exporter with its default collectors, on a free port. */
export function startNodeExporter(extraArgs: readonly string[] = []): Promise<RunningServer> {
  return startServer('prometheus-node-exporter', (port) => [`--web.listen-address=127.0.0.1:${port}`, ...extraArgs], '/metrics');
}

/**
 * A Prometheus server with the given scrape_configs and its own empty TSDB; `ruleFiles` are evaluated every
 * second, as often as the targets are scraped.
 */
export function startPrometheus(scrapeConfigs: unknown[], ruleFiles: readonly string[] = []): Promise<RunningServer> {
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', ...(ruleFiles.length > 0 ? { evaluation_interval: '1s' } : {}) },
    ...(ruleFiles.length > 0 ? { rule_files: ruleFiles } : {}),
    scrape_configs: scrapeConfigs,
  };
  return startServer(
    'prometheus',
    (port, dir) => [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    '/-/ready',
    (dir) => writeFile(join(dir, 'prometheus.yml'), stringify(config)),
  );
}

interface PrometheusVectorResponse {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** An instant query; each result's labels include __name__. */
export async function queryPrometheus(server: RunningServer, query: string, time?: number): Promise<PrometheusVectorResponse['data']['result']> {
  const params = new URLSearchParams({ query });
  if (time !== undefined) params.set('time', String(time / 1000));
  const response = await fetch(`${server.url}/api/v1/query?${params.toString()}`);
  const body = (await response.json()) as PrometheusVectorResponse;
  if (body.status !== 'success') throw new Error(`query ${query} failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** `le` and `quantile` values compared as numbers: Prometheus 2 keeps them as exposed ("1e+06"), JSON carries numbers. */
function canonicalLabelValue(name: string, value: string): string {
  if (name !== 'le' && name !== 'quantile') return value;
  const number = value === '+Inf' ? Infinity : Number(value);
  return Number.isNaN(number) ? value : String(number);
}

/** `name{a="1",b="2"}` with labels sorted: one Prometheus series. */
export function seriesId(name: string, labels: Readonly<Record<string, string>>): string {
  const parts = Object.keys(labels)
    .filter((label) => label !== '__name__')
    .sort()
    .map((label) => `${label}=${JSON.stringify(canonicalLabelValue(label, labels[label] ?? ''))}`);
  return `${name}{${parts.join(',')}}`;
}

/** The Prometheus series one raw metric event stands for (a histogram is its buckets, _sum and _count). */
export function sampleSeriesOf(event: RawMetricEvent): string[] {
  const { name, labels } = event;
  if (event.buckets) {
    const series = event.buckets.map((bucket) => seriesId(`${name}_bucket`, { ...labels, le: String(bucket.le) }));
    if (event.sum !== undefined) series.push(seriesId(`${name}_sum`, labels));
    if (event.count !== undefined) series.push(seriesId(`${name}_count`, labels));
    return series;
  }
  if (event.quantiles) {
    const series = event.quantiles.map((quantile) => seriesId(name, { ...labels, quantile: String(quantile.quantile) }));
    if (event.sum !== undefined) series.push(seriesId(`${name}_sum`, labels));
    if (event.count !== undefined) series.push(seriesId(`${name}_count`, labels));
    return series;
  }
  return [seriesId(name, labels)];
}
