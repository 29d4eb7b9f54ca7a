import { join } from 'node:path';
import type { MetricFamily } from '../../../metric-families/families.js';
import { fieldsOf, numberOf, readText } from './common.js';

const LOADS = [
  { name: 'node_load1', help: '1m load average.' },
  { name: 'node_load5', help: '5m load average.' },
  { name: 'node_load15', help: '15m load average.' },
] as const;

/** The first three fields of /proc/loadavg ("0.09 0.63 1.11 1/234 5678"). */
export function parseLoadavg(text: string): [number, number, number] {
  const fields = fieldsOf(text);
  const loads = [numberOf(fields[0]), numberOf(fields[1]), numberOf(fields[2])] as [number, number, number];
  if (loads.some(Number.isNaN)) throw new Error(`unexpected /proc/loadavg content: ${JSON.stringify(text.trim())}`);
  return loads;
}

/** `node_load1`, `node_load5`, `node_load15`, as node_exporter's loadavg collector. */
export async function collectLoad(options: { procPath: string }): Promise<MetricFamily[]> {
  const loads = parseLoadavg(await readText(join(options.procPath, 'loadavg')));
  return LOADS.map(({ name, help }, index) => ({ name, type: 'gauge', help, series: [{ kind: 'value', name, labels: {}, value: loads[index] ?? NaN }] }));
}
