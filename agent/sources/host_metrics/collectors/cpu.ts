import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetricFamily } from '../../../metric-families/families.js';
import { FamilyBuilder, buildAll, fieldsOf, numberOf, readOptionalText, readText } from './common.js';

/** Clock ticks per second of /proc/stat (`USER_HZ`): 100 on every Linux architecture node_exporter supports. */
const USER_HZ = 100;

/** /proc/stat's columns after `cpuN`, in order; the last two are also counted in user and nice. */
const COLUMNS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guest_nice'] as const;
const IDLE = 3;
const GUEST = 8;
const GUEST_NICE = 9;
/** node_exporter's output order of `mode` values; `node_cpu_seconds_total` has no guest modes. */
const MODES = COLUMNS.slice(0, GUEST);

/** An idle count falling back further than this means the CPU was unplugged and replugged, so its counters restart (node_exporter's `jumpBackSeconds`). */
const JUMP_BACK_SECONDS = 3;

/**
 * The last value exposed for each CPU and column, kept between collections. Some kernels (and some hypervisors'
 * steal accounting) let /proc/stat counters step backwards by a tick; exposing that would read as a counter reset,
 * so as node_exporter does, a counter keeps its previous value until the kernel's catches up.
 */
export class CpuState {
  private seconds: number[][] = [];
  /** Topology per `cpuN` directory; it does not change while the CPU exists, so it is read once. */
  readonly topology = new Map<string, { packageId: string; coreId: string }>();

  update(current: readonly (readonly number[])[]): readonly (readonly number[])[] {
    if (this.seconds.length !== current.length) this.seconds = current.map(() => new Array<number>(COLUMNS.length).fill(0));
    for (let cpu = 0; cpu < current.length; cpu++) {
      const now = current[cpu] ?? [];
      let kept = this.seconds[cpu] ?? [];
      if ((kept[IDLE] ?? 0) - (now[IDLE] ?? 0) >= JUMP_BACK_SECONDS) kept = new Array<number>(COLUMNS.length).fill(0);
      for (let column = 0; column < COLUMNS.length; column++) {
        const value = now[column] ?? 0;
        if (value >= (kept[column] ?? 0)) kept[column] = value;
      }
      this.seconds[cpu] = kept;
    }
    return this.seconds;
  }
}

/**
 * Seconds per CPU and column from /proc/stat, indexed by CPU number. Like node_exporter 1.5 (procfs 0.8), a gap in
 * the numbering (an offline CPU) is filled with zeros rather than skipped, so the `cpu` label values are 0..max.
 */
export function parseProcStat(text: string): number[][] {
  const cpus: number[][] = [];
  let seenCpu = false;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const isCpuLine = text.startsWith('cpu', start);
    // The cpu lines come first; the lines after them (intr alone can be tens of kilobytes) are never split.
    if (!isCpuLine && seenCpu) break;
    if (isCpuLine) {
      seenCpu = true;
      const fields = fieldsOf(text.slice(start, end));
      const label = fields[0] ?? '';
      if (label !== 'cpu') {
        const id = Number(label.slice(3));
        if (!Number.isInteger(id) || id < 0 || label.length === 3)
          throw new Error(`unexpected /proc/stat line: ${JSON.stringify(fields.slice(0, 2).join(' '))}`);
        const seconds = new Array<number>(COLUMNS.length).fill(0);
        // Older kernels have fewer columns (no steal, guest, guest_nice); the missing ones stay 0, as procfs leaves them.
        for (let column = 0; column < COLUMNS.length && column + 1 < fields.length; column++) {
          const ticks = numberOf(fields[column + 1]);
          if (Number.isNaN(ticks)) throw new Error(`unexpected value in /proc/stat ${label}: ${JSON.stringify(fields[column + 1])}`);
          seconds[column] = ticks / USER_HZ;
        }
        while (cpus.length < id) cpus.push(new Array<number>(COLUMNS.length).fill(0));
        cpus[id] = seconds;
      }
    }
    start = end + 1;
  }
  if (!seenCpu) throw new Error('no cpu lines in /proc/stat');
  return cpus;
}

export interface CpuCollectorOptions {
  procPath: string;
  sysPath: string;
  state: CpuState;
}

/** `node_cpu_seconds_total`, `node_cpu_guest_seconds_total` and the thermal throttle counters, as node_exporter 1.5's cpu collector. */
export async function collectCpu(options: CpuCollectorOptions): Promise<MetricFamily[]> {
  const [stat, throttles] = await Promise.all([readText(join(options.procPath, 'stat')), collectThermalThrottles(options)]);
  const seconds = options.state.update(parseProcStat(stat));
  const cpuSeconds = new FamilyBuilder('node_cpu_seconds_total', 'counter', 'Seconds the CPUs spent in each mode.');
  const guestSeconds = new FamilyBuilder('node_cpu_guest_seconds_total', 'counter', 'Seconds the CPUs spent in guests (VMs) for each mode.');
  seconds.forEach((values, index) => {
    const cpu = String(index);
    MODES.forEach((mode, column) => cpuSeconds.add({ cpu, mode }, values[column] ?? 0));
    guestSeconds.add({ cpu, mode: 'user' }, values[GUEST] ?? 0);
    guestSeconds.add({ cpu, mode: 'nice' }, values[GUEST_NICE] ?? 0);
  });
  return [...buildAll([cpuSeconds, guestSeconds]), ...throttles];
}

/**
 * `node_cpu_core_throttles_total{package,core}` and `node_cpu_package_throttles_total{package}` from
 * /sys/devices/system/cpu/cpuN/thermal_throttle (x86 with thermal monitoring; absent on most VMs, which then have
 * neither family). Each core and package is read once, through the first CPU (by name) that belongs to it.
 */
async function collectThermalThrottles(options: CpuCollectorOptions): Promise<MetricFamily[]> {
  const cpuRoot = join(options.sysPath, 'devices', 'system', 'cpu');
  let names: string[];
  try {
    names = (await readdir(cpuRoot)).filter((name) => /^cpu[0-9]/.test(name)).sort();
  } catch {
    return [];
  }
  const topology = await Promise.all(names.map((name) => readTopology(options.state, cpuRoot, name)));
  const cores = new Map<string, { packageId: string; coreId: string; dir: string }>();
  const packages = new Map<string, string>();
  names.forEach((name, index) => {
    const ids = topology[index];
    if (ids === undefined) return;
    const dir = join(cpuRoot, name);
    const coreKey = `${ids.packageId}/${ids.coreId}`;
    if (!cores.has(coreKey)) cores.set(coreKey, { ...ids, dir });
    if (!packages.has(ids.packageId)) packages.set(ids.packageId, dir);
  });
  const coreThrottles = new FamilyBuilder('node_cpu_core_throttles_total', 'counter', 'Number of times this CPU core has been throttled.');
  const packageThrottles = new FamilyBuilder('node_cpu_package_throttles_total', 'counter', 'Number of times this CPU package has been throttled.');
  const [coreCounts, packageCounts] = await Promise.all([
    Promise.all([...cores.values()].map((core) => readUint(join(core.dir, 'thermal_throttle', 'core_throttle_count')))),
    Promise.all([...packages.values()].map((dir) => readUint(join(dir, 'thermal_throttle', 'package_throttle_count')))),
  ]);
  [...packages.keys()].forEach((packageId, index) => {
    const count = packageCounts[index];
    if (count !== undefined) packageThrottles.add({ package: packageId }, count);
  });
  [...cores.values()].forEach((core, index) => {
    const count = coreCounts[index];
    if (count !== undefined) coreThrottles.add({ package: core.packageId, core: core.coreId }, count);
  });
  return buildAll([coreThrottles, packageThrottles]);
}

async function readTopology(state: CpuState, cpuRoot: string, name: string): Promise<{ packageId: string; coreId: string } | undefined> {
  const cached = state.topology.get(name);
  if (cached !== undefined) return cached;
  const dir = join(cpuRoot, name, 'topology');
  const [packageId, coreId] = await Promise.all([readUint(join(dir, 'physical_package_id')), readUint(join(dir, 'core_id'))]);
  // An offline CPU may lack its topology; it is skipped, and asked again next time rather than remembered as absent.
  if (packageId === undefined || coreId === undefined) return undefined;
  const ids = { packageId: String(packageId), coreId: String(coreId) };
  state.topology.set(name, ids);
  return ids;
}

async function readUint(path: string): Promise<number | undefined> {
  const text = await readOptionalText(path);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  return /^[0-9]+$/.test(trimmed) ? Number(trimmed) : undefined;
}
