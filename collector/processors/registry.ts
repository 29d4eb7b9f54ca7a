import type { z } from 'zod';
import { ComponentRegistry, sectionShape } from '../../shared/component/registry.js';
import { enrichProcessorFactory } from './enrich/factory.js';
import { parseProcessorFactory } from './parse/factory.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';
import type { ProcessorDeps, RecordProcessor } from './processor.js';
import { routeProcessorFactory } from './route/factory.js';

/**
 * Every collector processor, one line each, in the order every record passes them. Before them, normalize turns
 * the decoded raw event into the standard record they work on (its resource is what parser rules match on); it is
 * not listed because it is not optional and has no section of its own (it reads `collector.resource`).
 *
 *   decode → normalize → parse (logs only) → enrich → route
 *
 * Parse runs before enrich so enrich sees (and may redact) the fields parsing extracted; route runs last so rules
 * match the finished record.
 */
export const collectorProcessors = new ComponentRegistry('processor', [parseProcessorFactory, enrichProcessorFactory, routeProcessorFactory]);

/** The top-level collector config keys the processors own (`parsers`, `enrich`, `routes`, `default_outputs`). */
export const processorConfigShape = sectionShape(collectorProcessors);

export type ProcessorsConfig = z.output<z.ZodObject<typeof processorConfigShape>>;

/** What the collector provides for all processors: their deps, with metrics made per processor type. */
export type SharedProcessorDeps = Omit<ProcessorDeps, 'metrics'> & { metricsFor: (type: string) => ComponentMetrics };

/** One instance of every processor, in pipeline order; each processor's id is its type (there is one of each). */
export function createProcessors(config: ProcessorsConfig, deps: SharedProcessorDeps): RecordProcessor[] {
  const { metricsFor, ...shared } = deps;
  return collectorProcessors.factories.map((factory) => factory.create(factory.type, config, { ...shared, metrics: () => metricsFor(factory.type) }));
}
