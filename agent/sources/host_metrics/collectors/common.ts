import { readFile } from 'node:fs/promises';
import type { Labels, MetricFamily, MetricType, ValueSeries } from '../../../metric-families/families.js';

/**
 * Whitespace-separated fields, as Go's `strings.Fields` gives them. procfs pads columns with runs of spaces,
 * so `split(' ')` would leave empty fields; this scans once and allocates only the fields.
 */
export function fieldsOf(line: string): string[] {
  const fields: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    // space, \t, \n, \v, \f, \r
    if (code === 32 || (code >= 9 && code <= 13)) {
      if (start >= 0) {
        fields.push(line.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) fields.push(line.slice(start));
  return fields;
}

/** A decimal number field; NaN for anything else, so a malformed file is an error rather than a 0 (`Number('')` is 0). */
export function numberOf(field: string | undefined): number {
  if (field === undefined || field === '') return NaN;
  return Number(field);
}

/** The same test Prometheus client libraries apply before exposing a name. */
export function isMetricName(name: string): boolean {
  return /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name);
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** A small file that may legitimately be absent (sysfs attributes, udev records): its text, or undefined when it cannot be read. */
export async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/** Collects one family's series; `build` leaves out families without series, as node_exporter never exposes an empty one. */
export class FamilyBuilder {
  readonly series: ValueSeries[] = [];

  constructor(
    readonly name: string,
    readonly type: MetricType,
    readonly help: string,
  ) {}

  add(labels: Labels, value: number): void {
    this.series.push({ kind: 'value', name: this.name, labels, value });
  }

  build(): MetricFamily | undefined {
    if (this.series.length === 0) return undefined;
    return { name: this.name, type: this.type, help: this.help, series: this.series };
  }
}

export function buildAll(builders: Iterable<FamilyBuilder>): MetricFamily[] {
  const families: MetricFamily[] = [];
  for (const builder of builders) {
    const family = builder.build();
    if (family !== undefined) families.push(family);
  }
  return families;
}
