import type { z } from 'zod';
import { ComponentRegistry, typedEntrySchema } from '../../shared/component/registry.js';
import type { NamedSource } from '../source-supervisor.js';
import { fileSourceFactory } from './file/factory.js';
import { hostMetricsSourceFactory } from './host_metrics/factory.js';
import { prometheusScrapeSourceFactory } from './prometheus_scrape/factory.js';
import type { CheckpointedSource, LogSourceDeps, MetricSourceDeps } from './source-factory.js';

/** Every agent source type, one line each; `sources.<id>.type` is validated against and built from this list. */
export const agentSources = new ComponentRegistry('source', [fileSourceFactory, prometheusScrapeSourceFactory, hostMetricsSourceFactory]);

/** The schema of one `sources.<id>` entry. */
export const agentSourceSchema = typedEntrySchema(agentSources);

export type AgentSourceConfig = z.output<typeof agentSourceSchema>;

/** A configured source, ready to be instantiated (and re-instantiated by its supervisor) on its stream. */
export type BoundSource =
  | { readonly name: string; readonly type: string; readonly stream: 'logs'; create(deps: LogSourceDeps): CheckpointedSource }
  | { readonly name: string; readonly type: string; readonly stream: 'metrics'; create(deps: MetricSourceDeps): NamedSource };

/** Looks up the factory of a validated `sources.<name>` entry; an unregistered type throws, never falls through. */
export function bindSource(name: string, config: AgentSourceConfig): BoundSource {
  const factory = agentSources.get(config.type);
  // The factory was found by this config's own `type`, which its schema produced: it takes exactly this config.
  // TypeScript cannot correlate the two unions (the factory's and the config's), hence the cast.
  const own = config as never;
  if (factory.stream === 'logs') return { name, type: factory.type, stream: 'logs', create: (deps) => factory.create(name, own, deps) };
  return { name, type: factory.type, stream: 'metrics', create: (deps) => factory.create(name, own, deps) };
}
