import { join } from 'node:path';
import type { MetricFamily } from '../../../metric-families/families.js';
import { fieldsOf, isMetricName, numberOf, readText } from './common.js';

export interface MeminfoField {
  /** The metric name without `node_memory_`, e.g. `Active_anon_bytes`, `HugePages_Total`. */
  key: string;
  value: number;
}

export interface ParsedMeminfo {
  fields: MeminfoField[];
  /** Lines whose derived name is not a valid metric name; node_exporter 1.5 panics on them, Tributary skips and reports them. */
  invalid: string[];
}

/**
 * node_exporter 1.5's meminfo_linux.go rules: the key loses its trailing colon, a parenthesised part becomes
 * `_part` (`Active(anon)` → `Active_anon`, greedy as its `\((.*)\)`), and a value with a unit (always kB) is
 * multiplied by 1024 and gains `_bytes`; values without a unit (`HugePages_Total`) keep the bare name.
 */
export function parseMeminfo(text: string): ParsedMeminfo {
  const fields: MeminfoField[] = [];
  const invalid: string[] = [];
  for (const line of text.split('\n')) {
    const parts = fieldsOf(line);
    // Some kernels (CentOS 6) print empty lines.
    if (parts.length === 0) continue;
    let value = numberOf(parts[1]);
    if (Number.isNaN(value)) throw new Error(`invalid value in meminfo: ${JSON.stringify(line)}`);
    let key = (parts[0] ?? '').slice(0, -1);
    const open = key.indexOf('(');
    const close = key.lastIndexOf(')');
    if (open >= 0 && close > open) key = `${key.slice(0, open)}_${key.slice(open + 1, close)}${key.slice(close + 1)}`;
    if (parts.length === 3) {
      value *= 1024;
      key += '_bytes';
    } else if (parts.length !== 2) {
      throw new Error(`invalid line in meminfo: ${JSON.stringify(line)}`);
    }
    if (isMetricName(`node_memory_${key}`)) fields.push({ key, value });
    else invalid.push(line);
  }
  return { fields, invalid };
}

export interface MemoryCollectorOptions {
  procPath: string;
  /** Told about fields that cannot be exposed, so a kernel with a new oddly-named field is noticed without losing the rest. */
  onInvalid?: (lines: string[]) => void;
}

/** One gauge family per /proc/meminfo field (a counter when the name ends in `_total`, as node_exporter decides). */
export async function collectMemory(options: MemoryCollectorOptions): Promise<MetricFamily[]> {
  const { fields, invalid } = parseMeminfo(await readText(join(options.procPath, 'meminfo')));
  if (invalid.length > 0) options.onInvalid?.(invalid);
  return fields.map(({ key, value }) => {
    const name = `node_memory_${key}`;
    return {
      name,
      type: key.endsWith('_total') ? 'counter' : 'gauge',
      help: `Memory information field ${key}.`,
      series: [{ kind: 'value', name, labels: {}, value }],
    };
  });
}
