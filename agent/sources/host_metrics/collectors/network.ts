import { join } from 'node:path';
import type { MetricFamily } from '../../../metric-families/families.js';
import { FamilyBuilder, buildAll, fieldsOf, numberOf, readOptionalText, readText } from './common.js';

/**
 * /proc/net/dev's columns in order. node_exporter 1.5 reads netlink by default but folds its detailed error counters
 * back into these legacy names with the kernel's own /proc/net/dev sums (net/core/net-procfs.c), so the two sources
 * give the same names and values.
 */
const COLUMNS = [
  'receive_bytes',
  'receive_packets',
  'receive_errs',
  'receive_drop',
  'receive_fifo',
  'receive_frame',
  'receive_compressed',
  'receive_multicast',
  'transmit_bytes',
  'transmit_packets',
  'transmit_errs',
  'transmit_drop',
  'transmit_fifo',
  'transmit_colls',
  'transmit_carrier',
  'transmit_compressed',
] as const;

export interface NetDevLine {
  device: string;
  /** One value per column of COLUMNS. */
  stats: number[];
}

export function parseNetDev(text: string): NetDevLine[] {
  const lines: NetDevLine[] = [];
  // Two header lines ("Inter-|   Receive …", " face |bytes …").
  for (const line of text.split('\n').slice(2)) {
    if (line.trim() === '') continue;
    // Old kernels print "eth0:123" with no space once the byte count is wide.
    const colon = line.lastIndexOf(':');
    if (colon < 0) throw new Error(`invalid /proc/net/dev line, missing colon: ${JSON.stringify(line)}`);
    const stats = fieldsOf(line.slice(colon + 1)).map(numberOf);
    if (stats.length < COLUMNS.length || stats.some(Number.isNaN)) throw new Error(`unexpected /proc/net/dev line: ${JSON.stringify(line)}`);
    lines.push({ device: line.slice(0, colon).trim(), stats: stats.slice(0, COLUMNS.length) });
  }
  return lines;
}

export interface NetworkCollectorOptions {
  procPath: string;
  sysPath: string;
  devicesExclude: RegExp;
}

/**
 * `node_network_<column>_total{device}` for each /proc/net/dev column, and `node_network_receive_nohandler_total`,
 * which node_exporter's default netlink source has and /proc/net/dev lacks: it comes from
 * /sys/class/net/<device>/statistics/rx_nohandler, and is left out for a device whose file cannot be read
 * (no sysfs in the container, kernels before 4.6), as node_exporter in /proc/net/dev mode leaves it out.
 */
export async function collectNetwork(options: NetworkCollectorOptions): Promise<MetricFamily[]> {
  const devices = parseNetDev(await readText(join(options.procPath, 'net', 'dev'))).filter((line) => !options.devicesExclude.test(line.device));
  const nohandler = await Promise.all(
    devices.map(async ({ device }) => {
      const text = await readOptionalText(join(options.sysPath, 'class', 'net', device, 'statistics', 'rx_nohandler'));
      const value = text === undefined ? NaN : numberOf(text.trim());
      return Number.isNaN(value) ? undefined : value;
    }),
  );
  const families = COLUMNS.map((column) => new FamilyBuilder(`node_network_${column}_total`, 'counter', `Network device statistic ${column}.`));
  const nohandlerFamily = new FamilyBuilder('node_network_receive_nohandler_total', 'counter', 'Network device statistic receive_nohandler.');
  devices.forEach(({ device, stats }, index) => {
    stats.forEach((value, column) => families[column]?.add({ device }, value));
    const dropped = nohandler[index];
    if (dropped !== undefined) nohandlerFamily.add({ device }, dropped);
  });
  return buildAll([...families, nohandlerFamily]);
}
