import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MetricFamily } from '../../../metric-families/families.js';
import { DEFAULT_FS_TYPES_EXCLUDE, DEFAULT_MOUNT_POINTS_EXCLUDE } from '../config.js';
import { StuckMounts, collectFilesystem, parseMounts, statMounts, type FilesystemStatsOptions, type MountEntry, type StatFs } from './filesystem.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'host-metrics-fs-'));
});

afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

const STATS: StatFs = { bsize: 4096, blocks: 1000, bfree: 600, bavail: 500, files: 100, ffree: 40 };

function mount(mountPoint: string, options = 'rw', device = '/dev/sda1', fsType = 'ext4'): MountEntry {
  return { device, mountPoint, fsType, options };
}

function statOptions(overrides: Partial<FilesystemStatsOptions> = {}): FilesystemStatsOptions {
  return {
    rootFsPath: '/',
    mountPointsExclude: new RegExp(DEFAULT_MOUNT_POINTS_EXCLUDE),
    fsTypesExclude: new RegExp(DEFAULT_FS_TYPES_EXCLUDE),
    timeoutMs: 5_000,
    stuck: new StuckMounts(),
    statfs: () => Promise.resolve(STATS),
    ...overrides,
  };
}

describe('parseMounts', () => {
  it('reads device, mount point, type and options, undoing the \\040 and \\011 escapes in mount points', () => {
    const text = '/dev/vda / ext4 rw,relatime 0 0\ntmpfs /mnt/my\\040disk\\011x tmpfs ro 0 0\n\n';
    expect(parseMounts(text, '/')).toEqual([
      { device: '/dev/vda', mountPoint: '/', fsType: 'ext4', options: 'rw,relatime' },
      { device: 'tmpfs', mountPoint: '/mnt/my disk\tx', fsType: 'tmpfs', options: 'ro' },
    ]);
  });

  it('reports mount points under the root fs path relative to it, by whole path components', () => {
    const text = ['/dev/vda /host ext4 rw 0 0', '/dev/vdb /host/data ext4 rw 0 0', '/dev/vdc /hostname ext4 rw 0 0', 'overlay / overlay rw 0 0', ''].join('\n');
    expect(parseMounts(text, '/host/').map((entry) => entry.mountPoint)).toEqual(['/', '/data', '/hostname', '/']);
  });

  it('rejects a line with fewer than four fields', () => {
    expect(() => parseMounts('/dev/vda / ext4\n', '/')).toThrow('malformed mount point information: "/dev/vda / ext4"');
  });
});

describe('statMounts', () => {
  it("leaves out node_exporter's default exclusions and repeats of a device, mount point and type (the first wins)", async () => {
    const results = await statMounts(
      [
        mount('/'),
        mount('/', 'ro'),
        mount('/proc', 'rw', 'proc', 'proc'),
        mount('/sys/fs/cgroup', 'rw', 'cgroup2', 'cgroup2'),
        mount('/run/credentials/a.service', 'ro', 'tmpfs', 'tmpfs'),
        mount('/var/lib/docker/overlay2/x', 'rw', 'overlay', 'overlay'),
        mount('/run', 'rw', 'tmpfs', 'tmpfs'),
        mount('/boot/efi', 'ro', '/dev/sda2', 'vfat'),
        mount('/data', 'rw,errors=remount-ro'),
      ],
      statOptions(),
    );
    expect(results.map((result) => [result.mount.mountPoint, result.error ? 'error' : result.readonly])).toEqual([
      ['/', false],
      ['/run', false],
      ['/boot/efi', true],
      // "remount-ro" is not the "ro" option.
      ['/data', false],
    ]);
  });

  it('marks a mount whose statfs fails as an error', async () => {
    const results = await statMounts(
      [mount('/gone'), mount('/')],
      statOptions({ statfs: (path) => (path === '/gone' ? Promise.reject(new Error('ENOENT')) : Promise.resolve(STATS)) }),
    );
    expect(results.map((result) => result.error)).toEqual([true, false]);
  });

  it('asks statfs once per path and collection, under the root fs path', async () => {
    const statfs = vi.fn((_path: string) => Promise.resolve(STATS));
    await statMounts([mount('/a'), mount('/a', 'rw', 'tmpfs', 'tmpfs'), mount('/b')], statOptions({ rootFsPath: '/host', statfs }));
    expect(statfs.mock.calls.map(([path]) => path)).toEqual(['/host/a', '/host/b']);
  });

  it('reports a hung statfs as an error after the timeout, and does not ask that mount again until the call returns', async () => {
    vi.useFakeTimers();
    let release: (stats: StatFs) => void = () => {};
    const hung = new Promise<StatFs>((resolve) => (release = resolve));
    const statfs = vi.fn((path: string) => (path === '/nfs' ? hung : Promise.resolve(STATS)));
    const options = statOptions({ statfs, timeoutMs: 5_000 });

    const first = statMounts([mount('/nfs', 'rw', 'server:/export', 'nfs4'), mount('/')], options);
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await first).map((result) => result.error)).toEqual([true, false]);
    expect(options.stuck.has('/nfs')).toBe(true);

    const second = await statMounts([mount('/nfs', 'rw', 'server:/export', 'nfs4')], options);
    expect(second.map((result) => result.error)).toEqual([true]);
    expect(statfs.mock.calls.filter(([path]) => path === '/nfs')).toHaveLength(1);

    release(STATS);
    await vi.advanceTimersByTimeAsync(0);
    expect(options.stuck.size).toBe(0);
    const third = await statMounts([mount('/nfs', 'rw', 'server:/export', 'nfs4')], options);
    expect(third.map((result) => result.error)).toEqual([false]);
    expect(statfs.mock.calls.filter(([path]) => path === '/nfs')).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('releases a stuck mount whose hung statfs finally fails', async () => {
    vi.useFakeTimers();
    let fail: (error: Error) => void = () => {};
    const hung = new Promise<StatFs>((_resolve, reject) => (fail = reject));
    const options = statOptions({ statfs: () => hung, timeoutMs: 1_000 });
    const first = statMounts([mount('/nfs')], options);
    await vi.advanceTimersByTimeAsync(1_000);
    await first;
    fail(new Error('EIO'));
    await vi.advanceTimersByTimeAsync(0);
    expect(options.stuck.has('/nfs')).toBe(false);
  });
});

function series(families: MetricFamily[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const family of families) {
    for (const entry of family.series) if (entry.kind === 'value') result[`${entry.name}${JSON.stringify(entry.labels)}`] = entry.value;
  }
  return result;
}

describe('collectFilesystem', () => {
  async function writeMounts(path: string, lines: string[]): Promise<void> {
    await mkdir(join(dir, 'proc', '1'), { recursive: true });
    await writeFile(join(dir, 'proc', path), `${lines.join('\n')}\n`);
  }

  function collect(overrides: { statfs?: (path: string) => Promise<StatFs> } = {}) {
    return collectFilesystem({
      procPath: join(dir, 'proc'),
      rootFsPath: '/',
      mountPointsExclude: new RegExp(DEFAULT_MOUNT_POINTS_EXCLUDE),
      fsTypesExclude: new RegExp(DEFAULT_FS_TYPES_EXCLUDE),
      timeoutMs: 5_000,
      stuck: new StuckMounts(),
      ...overrides,
    });
  }

  it('exposes sizes from the real statfs, and only device_error for a mount that cannot be read', async () => {
    await mkdir(join(dir, 'data'));
    await writeMounts('1/mounts', [`/dev/sdb1 ${join(dir, 'data')} ext4 ro,noatime 0 0`, '/dev/sdz9 /nonexistent/mount ext4 rw 0 0']);
    const families = await collect();
    const real = await statfs(join(dir, 'data'));
    const labels = JSON.stringify({ device: '/dev/sdb1', fstype: 'ext4', mountpoint: join(dir, 'data') });
    const missing = JSON.stringify({ device: '/dev/sdz9', fstype: 'ext4', mountpoint: '/nonexistent/mount' });
    expect(families.map((family) => family.name)).toEqual([
      'node_filesystem_avail_bytes',
      'node_filesystem_device_error',
      'node_filesystem_files',
      'node_filesystem_files_free',
      'node_filesystem_free_bytes',
      'node_filesystem_readonly',
      'node_filesystem_size_bytes',
    ]);
    const values = series(families);
    expect(values[`node_filesystem_size_bytes${labels}`]).toBe(real.blocks * real.bsize);
    expect(values[`node_filesystem_files${labels}`]).toBe(real.files);
    expect(values[`node_filesystem_readonly${labels}`]).toBe(1);
    expect(values[`node_filesystem_device_error${labels}`]).toBe(0);
    expect(values[`node_filesystem_device_error${missing}`]).toBe(1);
    expect(Object.keys(values).filter((key) => key.endsWith(missing))).toEqual([`node_filesystem_device_error${missing}`]);
  });

  it('computes bytes from blocks times block size', async () => {
    await writeMounts('1/mounts', ['/dev/sda1 / ext4 rw 0 0']);
    const values = series(await collect({ statfs: () => Promise.resolve(STATS) }));
    const labels = JSON.stringify({ device: '/dev/sda1', fstype: 'ext4', mountpoint: '/' });
    expect(values).toEqual({
      [`node_filesystem_avail_bytes${labels}`]: 500 * 4096,
      [`node_filesystem_device_error${labels}`]: 0,
      [`node_filesystem_files${labels}`]: 100,
      [`node_filesystem_files_free${labels}`]: 40,
      [`node_filesystem_free_bytes${labels}`]: 600 * 4096,
      [`node_filesystem_readonly${labels}`]: 0,
      [`node_filesystem_size_bytes${labels}`]: 1000 * 4096,
    });
  });

  it('falls back to /proc/mounts when /proc/1/mounts is hidden (hidepid)', async () => {
    await writeMounts('mounts', ['/dev/sda1 / ext4 rw 0 0']);
    expect(Object.keys(series(await collect({ statfs: () => Promise.resolve(STATS) })))).toHaveLength(7);
  });
});
