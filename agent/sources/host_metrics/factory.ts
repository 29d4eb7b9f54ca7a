import type { MetricSourceFactory } from '../source-factory.js';
import { hostMetricsSourceSchema } from './config.js';
import { HostMetricsSource } from './host-metrics-source.js';

export const hostMetricsSourceFactory: MetricSourceFactory<typeof hostMetricsSourceSchema> = {
  type: 'host_metrics',
  description: "reads the host's CPU, memory, load, filesystem, disk and network series as node_exporter names them",
  schema: hostMetricsSourceSchema,
  stream: 'metrics',
  create: (name, config, deps) => new HostMetricsSource(name, config, deps),
};
