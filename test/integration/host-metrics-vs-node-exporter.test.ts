import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_DISK_DEVICES_EXCLUDE,
  DEFAULT_FS_TYPES_EXCLUDE,
  DEFAULT_MOUNT_POINTS_EXCLUDE,
  hostMetricsSourceSchema,
  type HostMetricsSourceConfig,
} from '../../agent/sources/host_metrics/config.js';
import { collectHostMetrics, type HostMetricsResult } from '../../agent/sources/host_metrics/host-metrics.js';
import { freePort } from '../helpers/processes.js';

/**
 * Tributary's host metrics against the real node_exporter 1.5.0 (Debian's package), on this machine and on a
 * fixture /proc, /sys and udev database holding the cases this machine lacks (offline CPUs, thermal throttling,
 * old-kernel diskstats, udev disk properties, fstab escapes, an unreachable mount).
 *
 * Compared: the set of (family, TYPE), each family's HELP, and the set of series (name + labels). Left out:
 * node_exporter's own metrics (`node_scrape_collector_*`, `go_*`, `process_*`, `promhttp_*`,
 * `node_exporter_build_info`), which describe the exporter process, not the host. No host series is left out.
 * Not implemented, and absent here because they are off by default in node_exporter too: `--collector.cpu.info`
 * (node_cpu_info, flag_info, bug_info), `--collector.netdev.address-info` and `--collector.netdev.enable-detailed-metrics`.
 */
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

const COLLECTORS = [
  '--collector.disable-defaults',
  '--collector.cpu',
  '--collector.meminfo',
  '--collector.loadavg',
  '--collector.filesystem',
  '--collector.diskstats',
  '--collector.netdev',
];

/**
 * Debian patches node_exporter's defaults (it also excludes /run, /mnt and /media, and netdev excludes `lo`);
 * giving upstream 1.5's defaults explicitly runs both sides with the same configuration, Tributary's defaults.
 */
const UPSTREAM_DEFAULTS = [
  `--collector.filesystem.mount-points-exclude=${DEFAULT_MOUNT_POINTS_EXCLUDE}`,
  `--collector.filesystem.fs-types-exclude=${DEFAULT_FS_TYPES_EXCLUDE}`,
  `--collector.diskstats.device-exclude=${DEFAULT_DISK_DEVICES_EXCLUDE}`,
  '--collector.netdev.device-exclude=',
];

const SELF_METRICS = /^(node_scrape_collector_|go_|process_|promhttp_|node_exporter_build_info$)/;

interface Exposition {
  /** family name → TYPE */
  types: Map<string, string>;
  /** family name → HELP */
  help: Map<string, string>;
  /** series key (see seriesKey) → value */
  samples: Map<string, number>;
}

/** `name{a="1",b="2"}` with labels sorted by name, the same for both sides. */
function seriesKey(name: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((label) => `${label}=${JSON.stringify(labels[label])}`);
  return `${name}{${sorted.join(',')}}`;
}

/** Enough of the Prometheus text format for node_exporter's output: HELP, TYPE, and samples with escaped label values. */
function parseExposition(text: string): Exposition {
  const exposition: Exposition = { types: new Map(), help: new Map(), samples: new Map() };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (SELF_METRICS.test(name)) continue;
      if (kind === 'TYPE') exposition.types.set(name, rest);
      else exposition.help.set(name, rest.replaceAll('\\n', '\n').replaceAll('\\\\', '\\'));
      continue;
    }
    if (line.startsWith('#')) continue;
    const nameEnd = line.search(/[{ ]/);
    const name = line.slice(0, nameEnd);
    if (SELF_METRICS.test(name)) continue;
    const labels: Record<string, string> = {};
    let at = nameEnd;
    if (line[at] === '{') {
      at++;
      while (line[at] !== '}') {
        const equals = line.indexOf('=', at);
        const label = line.slice(at, equals);
        at = equals + 2; // past `="`
        let value = '';
        while (line[at] !== '"') {
          if (line[at] === '\\') {
            const escaped = line[at + 1];
            value += escaped === 'n' ? '\n' : (escaped ?? '');
            at += 2;
          } else {
            value += line.charAt(at);
            at++;
          }
        }
        labels[label] = value;
        at++; // closing quote
        if (line[at] === ',') at++;
      }
      at++; // closing brace
    }
    exposition.samples.set(seriesKey(name, labels), Number(line.slice(at).trim().split(' ')[0]));
  }
  return exposition;
}

function tributaryExposition(result: HostMetricsResult): Exposition {
  const exposition: Exposition = { types: new Map(), help: new Map(), samples: new Map() };
  for (const family of result.families) {
    exposition.types.set(family.name, family.type);
    exposition.help.set(family.name, family.help ?? '');
    for (const series of family.series) {
      if (series.kind !== 'value') throw new Error(`host metrics have only value series, got ${series.kind} in ${family.name}`);
      exposition.samples.set(seriesKey(series.name, series.labels), series.value);
    }
  }
  return exposition;
}

const sorted = <T>(values: Iterable<T>): T[] => [...values].sort();

interface RunningExporter {
  url: string;
  stop(): Promise<void>;
}

async function startNodeExporter(args: readonly string[]): Promise<RunningExporter> {
  const port = await freePort();
  const child: ChildProcess = spawn(NODE_EXPORTER, [...COLLECTORS, ...args, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/metrics`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node_exporter exited with ${child.exitCode}:\n${stderr}`);
    const up = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`node_exporter did not answer within 30 s:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function scrape(url: string): Promise<Exposition> {
  const response = await fetch(url);
  expect(response.ok).toBe(true);
  return parseExposition(await response.text());
}

/** Asserts the two sides expose the same families, TYPEs, HELP texts and series, and returns them for value checks. */
async function compare(url: string, config: HostMetricsSourceConfig): Promise<{ theirs: Exposition; ours: Exposition; result: HostMetricsResult }> {
  const [theirs, result] = await Promise.all([scrape(url), collectHostMetrics({ config })]);
  expect(result.errors).toEqual([]);
  const ours = tributaryExposition(result);
  expect(sorted([...ours.types].map(([name, type]) => `${name} ${type}`))).toEqual(sorted([...theirs.types].map(([name, type]) => `${name} ${type}`)));
  expect(Object.fromEntries(ours.help)).toEqual(Object.fromEntries(theirs.help));
  expect(sorted(ours.samples.keys())).toEqual(sorted(theirs.samples.keys()));
  return { theirs, ours, result };
}

describe('host metrics vs node_exporter 1.5 on this machine', () => {
  let exporter: RunningExporter;

  beforeAll(async () => {
    exporter = await startNodeExporter(UPSTREAM_DEFAULTS);
  });

  afterAll(async () => {
    await exporter.stop();
  });

  it('exposes the same families, HELP and series, and the values that cannot drift agree exactly', async () => {
    const config = hostMetricsSourceSchema.parse({ type: 'host_metrics' });
    const { theirs, ours, result } = await compare(exporter.url, config);

    // Every collector contributed: a silently empty collector would make the comparison vacuous.
    for (const prefix of ['node_cpu_seconds_total', 'node_memory_MemTotal_bytes', 'node_load1', 'node_filesystem_size_bytes', 'node_disk_', 'node_network_']) {
      expect(result.families.some((family) => family.name.startsWith(prefix))).toBe(true);
    }
    const memTotal = seriesKey('node_memory_MemTotal_bytes', {});
    expect(ours.samples.get(memTotal)).toBe(theirs.samples.get(memTotal));
    const cpus = (exposition: Exposition) =>
      new Set([...exposition.samples.keys()].filter((key) => key.startsWith('node_cpu_seconds_total{')).map((key) => /cpu="(\d+)"/.exec(key)?.[1]));
    expect(cpus(ours).size).toBe(cpus(theirs).size);
    const rootSize = [...theirs.samples.keys()].find((key) => key.startsWith('node_filesystem_size_bytes{') && key.includes('mountpoint="/"'));
    expect(rootSize).toBeDefined();
    expect(ours.samples.get(rootSize ?? '')).toBe(theirs.samples.get(rootSize ?? ''));
    // Counters read a moment apart: never behind node_exporter's by more than what a busy second could add.
    const cpuKey = seriesKey('node_cpu_seconds_total', { cpu: '0', mode: 'idle' });
    expect(Math.abs((ours.samples.get(cpuKey) ?? NaN) - (theirs.samples.get(cpuKey) ?? NaN))).toBeLessThan(5);

    console.log(`node_exporter and Tributary agree on ${theirs.types.size} families and ${theirs.samples.size} series`);
  });
});

/** Writes `files` (path relative to `root` → content) and returns `root`. */
async function writeTree(root: string, files: Record<string, string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

describe('host metrics vs node_exporter 1.5 on fixture /proc, /sys and udev data', () => {
  let dir: string;
  let exporter: RunningExporter;
  let config: HostMetricsSourceConfig;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'host-metrics-vs-ne-'));
    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'data disk'), { recursive: true });
    await mkdir(join(rootfs, 'tab\tdir'), { recursive: true });
    await writeTree(join(dir, 'proc'), {
      // cpu1 is offline: node_exporter 1.5 still exposes it, with zeros. cpu3 has an old kernel's 7 columns.
      stat: [
        'cpu  40000 300 20000 900000 1000 0 500 100 50 10',
        'cpu0 20000 150 10000 450000 500 0 250 50 25 5',
        'cpu2 20000 150 10000 450000 500 0 250 50 25 5',
        'cpu3 1 2 3 4 5 6 7',
        'intr 123 4 5 6',
        'ctxt 987',
        'btime 1700000000',
        'processes 42',
        'procs_running 1',
        'procs_blocked 0',
        'softirq 100 0 10 1 20 0 0 5 30 0 34',
        '',
      ].join('\n'),
      meminfo: [
        'MemTotal:       24684092 kB',
        'MemFree:        24372444 kB',
        'Active(anon):       1544 kB',
        'Inactive(file):    40216 kB',
        'HugePages_Total:       0',
        'HugePages_Free:        0',
        'Hugepagesize:       2048 kB',
        'DirectMap1G:    25165824 kB',
        '',
      ].join('\n'),
      loadavg: '0.09 0.63 1.11 1/234 5678\n',
      diskstats: [
        '   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
        '   8       0 sda 299007 42846 13368410 222666 229131 141005 15196448 85055 0 252172 334399',
        '   8       1 sda1 1 2 3 4 5 6 7 8 9 10 11',
        '   8      16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15',
        ' 259       0 nvme0n1 299029 42846 13368410 222670 229134 141005 15196448 85055 3 252180 334404 108092 250 9506368 12090 97840 14588',
        ' 259       1 nvme0n1p1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17',
        ' 253       0 dm-0 5 0 40 1 0 0 0 0 0 1 1 0 0 0 0 0 0',
        '',
      ].join('\n'),
      'net/dev': [
        'Inter-|   Receive                                                |  Transmit',
        ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
        '    lo: 3493835211  258770    0    0    0     0          0         0 3493835211  258770    0    0    0     0       0          0',
        '  eth0:18446744073709551615   43931    1    2    3     4          5         6  5014144   35252    7    8    9    10      11         12',
        'veth1a2b:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
        '',
      ].join('\n'),
      '1/mounts': [
        '/dev/vda / ext4 rw,relatime 0 0',
        '/dev/vda / ext4 ro,relatime 0 0',
        `tmpfs ${rootfs}/data\\040disk tmpfs ro,nosuid 0 0`,
        `tmpfs ${rootfs}/tab\\011dir tmpfs rw 0 0`,
        '/dev/sdz1 /gone ext4 rw 0 0',
        'proc /proc proc rw 0 0',
        'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0',
        'tmpfs /run/credentials/x.service tmpfs ro 0 0',
        '',
      ].join('\n'),
    });
    const cpu = (id: number, packageId: string, coreId: string, throttles: { core?: number; package?: number }) => ({
      [`devices/system/cpu/cpu${id}/topology/physical_package_id`]: `${packageId}\n`,
      [`devices/system/cpu/cpu${id}/topology/core_id`]: `${coreId}\n`,
      ...(throttles.core === undefined ? {} : { [`devices/system/cpu/cpu${id}/thermal_throttle/core_throttle_count`]: `${throttles.core}\n` }),
      ...(throttles.package === undefined ? {} : { [`devices/system/cpu/cpu${id}/thermal_throttle/package_throttle_count`]: `${throttles.package}\n` }),
    });
    await writeTree(join(dir, 'sys'), {
      ...cpu(0, '0', '0', { core: 3, package: 7 }),
      // cpu10 sorts before cpu2 and shares cpu0's core: its count must be ignored, as node_exporter reads each core once.
      ...cpu(10, '0', '0', { core: 99, package: 99 }),
      ...cpu(2, '0', '1', { core: 4, package: 7 }),
      ...cpu(3, '1', '0', { core: 0 }),
      ...cpu(4, '-1', '0', { core: 5, package: 5 }),
      'devices/system/cpu/online': '0,2-4,10\n',
    });
    await writeTree(join(dir, 'udev'), {
      'b8:0': [
        'S:disk/by-id/ata-Samsung_SSD_860_S3Z',
        'E:ID_ATA=1',
        'E:ID_ATA_WRITE_CACHE=1',
        'E:ID_ATA_WRITE_CACHE_ENABLED=1',
        'E:ID_ATA_ROTATION_RATE_RPM=0',
        'E:ID_MODEL=Samsung SSD 860 "EVO"',
        'E:ID_SERIAL=Samsung_SSD_860_S3Z',
        'E:ID_SERIAL_SHORT=S3Z\\x20',
        'E:ID_REVISION=RVT04B6Q',
        'E:ID_WWN=0x5002538e40a1b2c3',
        'E:ID_PATH=pci-0000:00:1f.2-ata-1',
        'E:ID_FS_TYPE=ext4',
        'E:ID_FS_USAGE=filesystem',
        'E:ID_FS_UUID=2f6c1b7e-1234',
        'E:ID_FS_VERSION=1.0',
        'G:systemd',
        '',
      ].join('\n'),
      'b253:0': ['E:DM_NAME=vg0-root', 'E:DM_UUID=LVM-abc', 'E:DM_VG_NAME=vg0', 'E:DM_LV_NAME=root', 'E:ID_FS_TYPE=xfs', ''].join('\n'),
    });
    exporter = await startNodeExporter([
      ...UPSTREAM_DEFAULTS,
      `--path.procfs=${join(dir, 'proc')}`,
      `--path.sysfs=${join(dir, 'sys')}`,
      `--path.rootfs=${rootfs}`,
      `--path.udev.data=${join(dir, 'udev')}`,
      // Netlink would read this machine's interfaces, not the fixture's /proc/net/dev.
      '--no-collector.netdev.netlink',
    ]);
    config = hostMetricsSourceSchema.parse({
      type: 'host_metrics',
      proc_path: join(dir, 'proc'),
      sys_path: join(dir, 'sys'),
      root_fs_path: rootfs,
      udev_data_path: join(dir, 'udev'),
    });
  });

  afterAll(async () => {
    await exporter.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('exposes the same families, HELP, series and values', async () => {
    const { theirs, ours } = await compare(exporter.url, config);
    // Free space and inodes of the real file system under the fixture's mounts can change between the two reads.
    const drifting = /^node_filesystem_(free_bytes|avail_bytes|files_free)\{/;
    const values = (exposition: Exposition) => Object.fromEntries([...exposition.samples].filter(([key]) => !drifting.test(key)));
    expect(values(ours)).toEqual(values(theirs));
    // The cases the fixture exists for, spelled out so a change in either side's behaviour names itself.
    expect(theirs.samples.get(seriesKey('node_cpu_seconds_total', { cpu: '1', mode: 'idle' }))).toBe(0);
    expect(theirs.samples.get(seriesKey('node_cpu_core_throttles_total', { package: '0', core: '0' }))).toBe(3);
    expect(theirs.samples.get(seriesKey('node_filesystem_readonly', { device: 'tmpfs', fstype: 'tmpfs', mountpoint: '/data disk' }))).toBe(1);
    expect(theirs.samples.get(seriesKey('node_filesystem_device_error', { device: '/dev/sdz1', fstype: 'ext4', mountpoint: '/gone' }))).toBe(1);
    expect(theirs.samples.get(seriesKey('node_network_receive_bytes_total', { device: 'eth0' }))).toBe(2 ** 64);
    console.log(`fixture: node_exporter and Tributary agree on ${theirs.types.size} families and ${theirs.samples.size} series with their values`);
  });
});
