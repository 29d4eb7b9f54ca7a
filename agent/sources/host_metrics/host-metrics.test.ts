import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricFamily } from '../../metric-families/families.js';
import { hostMetricsSourceSchema, type HostMetricsSourceConfig } from './config.js';
import { attachTargetLabels } from '../../metric-families/to-raw-events.js';
import { collectHostMetrics, createHostMetricsState, hostMetricsTargetLabels } from './host-metrics.js';
import { FixtureTree } from './collectors/fixture-tree.js';

const tree = new FixtureTree();
let dir: string;

beforeEach(async () => {
  await tree.create('host-metrics-');
  dir = tree.dir;
});

afterEach(() => tree.remove());

const writeTree = (files: Record<string, string>): Promise<void> => tree.write(files);

const PROC = {
  'proc/stat': 'cpu  2 0 2 20 0 0 0 0 0 0\ncpu0 1 0 1 10 0 0 0 0 0 0\ncpu1 1 0 1 10 0 0 0 0 0 0\nintr 0\n',
  'proc/meminfo': 'MemTotal: 1024 kB\nMemFree: 512 kB\n',
  'proc/loadavg': '0.5 0.25 0.125 1/100 42\n',
  'proc/diskstats': '   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n',
  'proc/net/dev': 'Inter-|\n face |\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n',
  'proc/1/mounts': '/dev/sda1 / ext4 rw 0 0\n',
};

function config(overrides: Record<string, unknown> = {}): HostMetricsSourceConfig {
  return hostMetricsSourceSchema.parse({
    type: 'host_metrics',
    proc_path: join(dir, 'proc'),
    sys_path: join(dir, 'sys'),
    udev_data_path: join(dir, 'udev'),
    root_fs_path: dir,
    ...overrides,
  });
}

const names = (families: MetricFamily[]) => families.map((family) => family.name);

describe('collectHostMetrics', () => {
  it('runs every collector and returns the families sorted by name, as node_exporter exposes them', async () => {
    await writeTree(PROC);
    const { families, errors } = await collectHostMetrics({ config: config() });
    expect(errors).toEqual([]);
    expect(names(families)).toEqual([...names(families)].sort());
    for (const name of [
      'node_cpu_seconds_total',
      'node_memory_MemTotal_bytes',
      'node_load15',
      'node_filesystem_size_bytes',
      'node_disk_info',
      'node_network_receive_bytes_total',
    ]) {
      expect(names(families)).toContain(name);
    }
    expect(families.find((family) => family.name === 'node_load15')?.series).toEqual([{ kind: 'value', name: 'node_load15', labels: {}, value: 0.125 }]);
  });

  it('runs only the configured collectors', async () => {
    await writeTree(PROC);
    const { families } = await collectHostMetrics({ config: config({ collectors: ['load', 'memory'] }) });
    expect(names(families)).toEqual(['node_load1', 'node_load15', 'node_load5', 'node_memory_MemFree_bytes', 'node_memory_MemTotal_bytes']);
  });

  it('reports a failing collector and still returns the others', async () => {
    const { 'proc/diskstats': _missing, ...rest } = PROC;
    await writeTree({ ...rest, 'proc/loadavg': 'garbage\n' });
    const { families, errors } = await collectHostMetrics({ config: config() });
    expect(errors).toHaveLength(2);
    expect(errors).toContainEqual({ collector: 'load', error: 'unexpected /proc/loadavg content: "garbage"' });
    expect(errors).toContainEqual({ collector: 'disk', error: expect.stringContaining('ENOENT') as unknown });
    expect(names(families).some((name) => name.startsWith('node_disk_') || name.startsWith('node_load'))).toBe(false);
    expect(names(families)).toContain('node_cpu_seconds_total');
  });

  it('reports meminfo fields it cannot name but exposes the rest', async () => {
    await writeTree({ ...PROC, 'proc/meminfo': 'MemTotal: 1 kB\nOdd(a)(b): 2 kB\n' });
    const { families, errors } = await collectHostMetrics({ config: config({ collectors: ['memory'] }) });
    expect(names(families)).toEqual(['node_memory_MemTotal_bytes']);
    expect(errors).toEqual([{ collector: 'memory', error: 'skipped meminfo fields whose names are not metric names: "Odd(a)(b): 2 kB"' }]);
  });

  it('keeps CPU counters from stepping backwards across collections through the state', async () => {
    await writeTree(PROC);
    const state = createHostMetricsState();
    const cpuSystem = async () => {
      const { families } = await collectHostMetrics({ config: config({ collectors: ['cpu'] }), state });
      return families
        .find((family) => family.name === 'node_cpu_seconds_total')
        ?.series.find((entry) => entry.labels.cpu === '0' && entry.labels.mode === 'system');
    };
    expect(await cpuSystem()).toMatchObject({ value: 0.01 });
    await writeTree({ 'proc/stat': 'cpu0 1 0 0 11 0 0 0 0 0 0\ncpu1 1 0 1 11 0 0 0 0 0 0\n' });
    expect(await cpuSystem()).toMatchObject({ value: 0.01 });
  });

  it('stats mounts under root_fs_path through the given statfs', async () => {
    await writeTree(PROC);
    const asked: string[] = [];
    await collectHostMetrics({
      config: config({ collectors: ['filesystem'] }),
      statfs: (path) => {
        asked.push(path);
        return Promise.resolve({ bsize: 1, blocks: 1, bfree: 1, bavail: 1, files: 1, ffree: 1 });
      },
    });
    expect(asked).toEqual([join(dir, '/')]);
  });
});

describe('target labels', () => {
  const family: MetricFamily = {
    name: 'node_x',
    type: 'gauge',
    help: 'X.',
    series: [{ kind: 'value', name: 'node_x', labels: { device: 'sda', job: 'inner', exported_job: 'older' }, value: 1 }],
  };

  it('are job, instance and the configured labels', () => {
    expect(hostMetricsTargetLabels(config({ job: 'hosts', labels: { team: 'db' } }), 'web-1')).toEqual({ team: 'db', job: 'hosts', instance: 'web-1' });
  });

  it('win over series labels of the same name, which are kept as exported_<name> (Prometheus honor_labels: false)', () => {
    expect(attachTargetLabels(family.series[0]?.labels ?? {}, { job: 'node', instance: 'web-1' }, false)).toEqual({
      device: 'sda',
      job: 'node',
      exported_job: 'older',
      exported_exported_job: 'inner',
      instance: 'web-1',
    });
    expect(family.series[0]?.labels.job).toBe('inner');
  });
});
