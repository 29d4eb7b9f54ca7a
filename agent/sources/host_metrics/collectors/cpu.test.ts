import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricFamily } from '../../../metric-families/families.js';
import { CpuState, collectCpu, parseProcStat } from './cpu.js';
import { FixtureTree } from './fixture-tree.js';

const tree = new FixtureTree();
let dir: string;

beforeEach(async () => {
  await tree.create('host-metrics-cpu-');
  dir = tree.dir;
});

afterEach(() => tree.remove());

const writeTree = (files: Record<string, string>): Promise<void> => tree.write(files);

function values(families: MetricFamily[], name: string): Record<string, number> {
  const family = families.find((candidate) => candidate.name === name);
  return Object.fromEntries(
    (family?.series ?? []).map((series) => [
      Object.entries(series.labels)
        .map(([label, value]) => `${label}=${value}`)
        .join(','),
      series.kind === 'value' ? series.value : NaN,
    ]),
  );
}

const STAT = [
  'cpu  600 20 300 9000 40 0 50 60 10 2',
  'cpu0 300 10 150 4500 20 0 25 30 5 1',
  'cpu1 300 10 150 4500 20 0 25 30 5 1',
  'intr 1 2 3',
  'ctxt 10',
  '',
].join('\n');

describe('parseProcStat', () => {
  it('gives seconds per column (USER_HZ 100) per CPU, without the total line', () => {
    expect(parseProcStat(STAT)).toEqual([
      [3, 0.1, 1.5, 45, 0.2, 0, 0.25, 0.3, 0.05, 0.01],
      [3, 0.1, 1.5, 45, 0.2, 0, 0.25, 0.3, 0.05, 0.01],
    ]);
  });

  it('fills a gap in CPU numbering (an offline CPU) with zeros, as node_exporter 1.5 does', () => {
    const cpus = parseProcStat('cpu 1 1 1 1\ncpu0 1 1 1 1\ncpu2 100 0 0 0\n');
    expect(cpus).toHaveLength(3);
    expect(cpus[1]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(cpus[2]?.[0]).toBe(1);
  });

  it('leaves columns an old kernel does not print at zero', () => {
    expect(parseProcStat('cpu0 100 200 300 400 500 600 700\n')).toEqual([[1, 2, 3, 4, 5, 6, 7, 0, 0, 0]]);
  });

  it('rejects a file without cpu lines or with a malformed value', () => {
    expect(() => parseProcStat('intr 1\n')).toThrow('no cpu lines in /proc/stat');
    expect(() => parseProcStat('cpu0 1 x 3\n')).toThrow('unexpected value in /proc/stat cpu0: "x"');
  });
});

describe('collectCpu', () => {
  it('exposes node_cpu_seconds_total per mode and node_cpu_guest_seconds_total per guest mode', async () => {
    await writeTree({ 'proc/stat': STAT });
    const families = await collectCpu({ procPath: join(dir, 'proc'), sysPath: join(dir, 'sys'), state: new CpuState() });
    expect(families.map((family) => [family.name, family.type, family.help])).toEqual([
      ['node_cpu_seconds_total', 'counter', 'Seconds the CPUs spent in each mode.'],
      ['node_cpu_guest_seconds_total', 'counter', 'Seconds the CPUs spent in guests (VMs) for each mode.'],
    ]);
    expect(values(families, 'node_cpu_seconds_total')).toMatchObject({
      'cpu=0,mode=user': 3,
      'cpu=0,mode=nice': 0.1,
      'cpu=0,mode=system': 1.5,
      'cpu=0,mode=idle': 45,
      'cpu=0,mode=iowait': 0.2,
      'cpu=0,mode=irq': 0,
      'cpu=0,mode=softirq': 0.25,
      'cpu=0,mode=steal': 0.3,
    });
    expect(Object.keys(values(families, 'node_cpu_seconds_total'))).toHaveLength(16);
    expect(values(families, 'node_cpu_guest_seconds_total')).toEqual({
      'cpu=0,mode=user': 0.05,
      'cpu=0,mode=nice': 0.01,
      'cpu=1,mode=user': 0.05,
      'cpu=1,mode=nice': 0.01,
    });
  });

  it('keeps a counter that steps backwards at its previous value, and restarts a CPU whose idle fell back by 3 s or more', async () => {
    const state = new CpuState();
    const collect = async (stat: string) => {
      await writeTree({ 'proc/stat': stat });
      return values(await collectCpu({ procPath: join(dir, 'proc'), sysPath: join(dir, 'sys'), state }), 'node_cpu_seconds_total');
    };
    await collect('cpu0 100 0 0 1000 500 0 0 0 0 0\ncpu1 100 0 0 1000 0 0 0 0 0 0\n');
    // cpu0's iowait steps back by a tick (a kernel quirk); cpu1 was replugged: idle restarted from near zero.
    const second = await collect('cpu0 100 0 0 1100 499 0 0 0 0 0\ncpu1 50 0 0 10 0 0 0 0 0 0\n');
    expect(second['cpu=0,mode=iowait']).toBe(5);
    expect(second['cpu=0,mode=idle']).toBe(11);
    expect(second['cpu=1,mode=idle']).toBe(0.1);
    expect(second['cpu=1,mode=user']).toBe(0.5);
    const third = await collect('cpu0 100 0 0 1200 600 0 0 0 0 0\ncpu1 50 0 0 20 0 0 0 0 0 0\n');
    expect(third['cpu=0,mode=iowait']).toBe(6);
  });

  it('starts afresh when the number of CPUs changes', async () => {
    const state = new CpuState();
    await writeTree({ 'proc/stat': 'cpu0 100 0 0 1000 500 0 0 0 0 0\n' });
    await collectCpu({ procPath: join(dir, 'proc'), sysPath: join(dir, 'sys'), state });
    await writeTree({ 'proc/stat': 'cpu0 100 0 0 1000 400 0 0 0 0 0\ncpu1 1 0 0 1 0 0 0 0 0 0\n' });
    const families = await collectCpu({ procPath: join(dir, 'proc'), sysPath: join(dir, 'sys'), state });
    expect(values(families, 'node_cpu_seconds_total')['cpu=0,mode=iowait']).toBe(4);
  });

  it('reads thermal throttle counts once per core and per package, through the first CPU by name', async () => {
    const cpu = (id: number, packageId: string, coreId: string, core?: number, pkg?: number) => ({
      [`sys/devices/system/cpu/cpu${id}/topology/physical_package_id`]: `${packageId}\n`,
      [`sys/devices/system/cpu/cpu${id}/topology/core_id`]: `${coreId}\n`,
      ...(core === undefined ? {} : { [`sys/devices/system/cpu/cpu${id}/thermal_throttle/core_throttle_count`]: `${core}\n` }),
      ...(pkg === undefined ? {} : { [`sys/devices/system/cpu/cpu${id}/thermal_throttle/package_throttle_count`]: `${pkg}\n` }),
    });
    await writeTree({
      'proc/stat': STAT,
      ...cpu(0, '0', '0', 3, 7),
      ...cpu(10, '0', '0', 99, 99),
      ...cpu(2, '0', '1', 4, 7),
      ...cpu(3, '1', '0', 1),
      ...cpu(4, '-1', '0', 5, 5),
      'sys/devices/system/cpu/online': '0-4\n',
    });
    const families = await collectCpu({ procPath: join(dir, 'proc'), sysPath: join(dir, 'sys'), state: new CpuState() });
    expect(values(families, 'node_cpu_core_throttles_total')).toEqual({ 'package=0,core=0': 3, 'package=0,core=1': 4, 'package=1,core=0': 1 });
    expect(values(families, 'node_cpu_package_throttles_total')).toEqual({ 'package=0': 7 });
    expect(families.find((family) => family.name === 'node_cpu_core_throttles_total')?.help).toBe('Number of times this CPU core has been throttled.');
  });

  it('has no throttle families where sysfs has no thermal_throttle (most VMs) or no CPU directory', async () => {
    await writeTree({
      'proc/stat': STAT,
      'sys/devices/system/cpu/cpu0/topology/core_id': '0\n',
      'sys/devices/system/cpu/cpu0/topology/physical_package_id': '0\n',
    });
    const names = async (sysPath: string) => (await collectCpu({ procPath: join(dir, 'proc'), sysPath, state: new CpuState() })).map((family) => family.name);
    expect(await names(join(dir, 'sys'))).toEqual(['node_cpu_seconds_total', 'node_cpu_guest_seconds_total']);
    expect(await names(join(dir, 'nonexistent'))).toEqual(['node_cpu_seconds_total', 'node_cpu_guest_seconds_total']);
  });

  it('fails when /proc/stat cannot be read', async () => {
    await expect(collectCpu({ procPath: join(dir, 'nonexistent'), sysPath: dir, state: new CpuState() })).rejects.toThrow('ENOENT');
  });
});
