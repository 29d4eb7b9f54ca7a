import type { MetricSourceFactory } from '../source-factory.js';
import { prometheusScrapeSourceSchema } from './config.js';
import { PrometheusScrapeSource } from './prometheus-scrape-source.js';

export const prometheusScrapeSourceFactory: MetricSourceFactory<typeof prometheusScrapeSourceSchema> = {
  type: 'prometheus_scrape',
  description: 'scrapes Prometheus and OpenMetrics endpoints (static and file_sd targets, relabelling, auth, TLS)',
  schema: prometheusScrapeSourceSchema,
  stream: 'metrics',
  create: (name, config, deps) => new PrometheusScrapeSource(name, config, deps),
};
