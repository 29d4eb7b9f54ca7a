import { statfs as fsStatfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetricFamily } from '../../../metric-families/families.js';
import { FamilyBuilder, buildAll, fieldsOf, isNotFound, readText } from './common.js';

/** The statfs fields node_exporter uses (Node's `fs.StatFs` has them under these names). */
export interface StatFs {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export type StatfsFunction = (path: string) => Promise<StatFs>;

export const defaultStatfs: StatfsFunction = (path) => fsStatfs(path);

export interface MountEntry {
  device: string;
  mountPoint: string;
  fsType: string;
  options: string;
}

/**
 * Mount points whose statfs outlived the timeout: while that call is still pending the mount is reported as
 * `device_error` 1 without being asked again. statfs runs on libuv's small thread pool (4 threads by default,
 * shared with all file I/O), so asking a dead NFS mount every interval would soon starve the file tailer.
 */
export class StuckMounts {
  private readonly pending = new Set<string>();

  has(mountPoint: string): boolean {
    return this.pending.has(mountPoint);
  }

  /** Marks the mount as stuck until `call` settles. */
  holdUntil(mountPoint: string, call: Promise<unknown>): void {
    this.pending.add(mountPoint);
    const release = () => this.pending.delete(mountPoint);
    call.then(release, release);
  }

  get size(): number {
    return this.pending.size;
  }
}

/**
 * /proc/1/mounts as node_exporter 1.5 reads it: `\040` and `\011` in the mount point become a space and a tab
 * (fstab(5) escapes), and a mount point under `rootFsPath` is reported relative to it.
 */
export function parseMounts(text: string, rootFsPath: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const parts = fieldsOf(line);
    if (parts.length === 0) continue;
    const [device, rawMountPoint, fsType, options] = parts;
    if (device === undefined || rawMountPoint === undefined || fsType === undefined || options === undefined) {
      throw new Error(`malformed mount point information: ${JSON.stringify(line)}`);
    }
    const mountPoint = stripRootFs(rawMountPoint.replaceAll('\\040', ' ').replaceAll('\\011', '\t'), rootFsPath);
    mounts.push({ device, mountPoint, fsType, options });
  }
  return mounts;
}

/** Only whole path components are stripped: node_exporter's plain prefix trim would turn `/hostname` into `name` under `/host`. */
function stripRootFs(path: string, rootFsPath: string): string {
  const root = rootFsPath.endsWith('/') ? rootFsPath.slice(0, -1) : rootFsPath;
  if (root === '') return path;
  if (path === root) return '/';
  return path.startsWith(`${root}/`) ? path.slice(root.length) : path;
}

/** /proc/1/mounts shows the host's mounts even from a container sharing the host's PID namespace; /proc/mounts is the fallback when hidepid hides PID 1. */
async function readMounts(procPath: string): Promise<string> {
  try {
    return await readText(join(procPath, '1', 'mounts'));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return readText(join(procPath, 'mounts'));
  }
}

export interface FilesystemStatsOptions {
  rootFsPath: string;
  mountPointsExclude: RegExp;
  fsTypesExclude: RegExp;
  timeoutMs: number;
  stuck: StuckMounts;
  statfs: StatfsFunction;
}

export type MountStats = { mount: MountEntry; error: true } | { mount: MountEntry; error: false; stats: StatFs; readonly: boolean };

/**
 * statfs for every mount that is not excluded, all at once (the thread pool bounds how many really run together).
 * One entry per (device, mount point, type), the first listed: Prometheus rejects a repeated label set, and
 * node_exporter's exposition keeps the first. A failed, timed-out or still-stuck statfs is `error: true`.
 */
export async function statMounts(mounts: readonly MountEntry[], options: FilesystemStatsOptions): Promise<MountStats[]> {
  const seen = new Set<string>();
  const selected: MountEntry[] = [];
  for (const mount of mounts) {
    if (options.mountPointsExclude.test(mount.mountPoint) || options.fsTypesExclude.test(mount.fsType)) continue;
    const key = `${mount.device}\u0000${mount.mountPoint}\u0000${mount.fsType}`;
    if (seen.has(key)) continue;
    seen.add(key);
    selected.push(mount);
  }
  // Overmounted or bind-mounted paths repeat; one statfs per path and collection is enough.
  const calls = new Map<string, Promise<StatFs | undefined>>();
  const statOnce = (mountPoint: string): Promise<StatFs | undefined> => {
    let call = calls.get(mountPoint);
    if (call === undefined) {
      call = statWithTimeout(mountPoint, options);
      calls.set(mountPoint, call);
    }
    return call;
  };
  return Promise.all(
    selected.map(async (mount): Promise<MountStats> => {
      if (options.stuck.has(mount.mountPoint)) return { mount, error: true };
      const stats = await statOnce(mount.mountPoint);
      if (stats === undefined) return { mount, error: true };
      return { mount, error: false, stats, readonly: mount.options.split(',').includes('ro') };
    }),
  );
}

async function statWithTimeout(mountPoint: string, options: FilesystemStatsOptions): Promise<StatFs | undefined> {
  const call = options.statfs(join(options.rootFsPath, mountPoint));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  try {
    const result = await Promise.race([call, timedOut]);
    if (result === 'timeout') {
      options.stuck.holdUntil(mountPoint, call);
      return undefined;
    }
    return result;
  } catch {
    // ENOENT, EACCES, EIO…: node_exporter reports these as device_error 1, not as a collector failure.
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

export interface FilesystemCollectorOptions extends Omit<FilesystemStatsOptions, 'statfs'> {
  procPath: string;
  statfs?: StatfsFunction;
}

/** `node_filesystem_*{device,fstype,mountpoint}`, as node_exporter 1.5's filesystem collector. */
export async function collectFilesystem(options: FilesystemCollectorOptions): Promise<MetricFamily[]> {
  const mounts = parseMounts(await readMounts(options.procPath), options.rootFsPath);
  const results = await statMounts(mounts, { ...options, statfs: options.statfs ?? defaultStatfs });
  const families = {
    avail: new FamilyBuilder('node_filesystem_avail_bytes', 'gauge', 'Filesystem space available to non-root users in bytes.'),
    deviceError: new FamilyBuilder('node_filesystem_device_error', 'gauge', 'Whether an error occurred while getting statistics for the given device.'),
    files: new FamilyBuilder('node_filesystem_files', 'gauge', 'Filesystem total file nodes.'),
    filesFree: new FamilyBuilder('node_filesystem_files_free', 'gauge', 'Filesystem total free file nodes.'),
    free: new FamilyBuilder('node_filesystem_free_bytes', 'gauge', 'Filesystem free space in bytes.'),
    readonly: new FamilyBuilder('node_filesystem_readonly', 'gauge', 'Filesystem read-only status.'),
    size: new FamilyBuilder('node_filesystem_size_bytes', 'gauge', 'Filesystem size in bytes.'),
  };
  for (const result of results) {
    const labels = { device: result.mount.device, fstype: result.mount.fsType, mountpoint: result.mount.mountPoint };
    families.deviceError.add(labels, result.error ? 1 : 0);
    // node_exporter 1.5 exposes nothing else for a mount it could not stat, not even `readonly`.
    if (result.error) continue;
    const { stats } = result;
    families.size.add(labels, stats.blocks * stats.bsize);
    families.free.add(labels, stats.bfree * stats.bsize);
    families.avail.add(labels, stats.bavail * stats.bsize);
    families.files.add(labels, stats.files);
    families.filesFree.add(labels, stats.ffree);
    families.readonly.add(labels, result.readonly ? 1 : 0);
  }
  return buildAll(Object.values(families));
}
