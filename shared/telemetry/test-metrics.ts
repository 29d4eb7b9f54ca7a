import { PipelineMetrics, type ComponentKind, type ComponentMetrics } from './metrics.js';

/** A fresh registry per test, so counters start at zero; without the process families, which nothing here reads. */
export function testComponentMetrics(kind: ComponentKind = 'sink'): { families: PipelineMetrics; metrics: ComponentMetrics } {
  const families = new PipelineMetrics('agent', undefined, { processMetrics: false });
  return { families, metrics: families.component({ component_id: 'test', component_type: 'test', component_kind: kind }) };
}

/** Current value of a counter or gauge sample, by family name and label subset. */
export async function sampleValue(families: PipelineMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = families.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric family ${name}`);
  const { values } = await metric.get();
  let total = 0;
  for (const sample of values) {
    if (Object.entries(labels).every(([key, value]) => String(sample.labels[key]) === value)) total += sample.value;
  }
  return total;
}
