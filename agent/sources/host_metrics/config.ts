import { z } from 'zod';
import { duration } from '../../../shared/config/schema.js';

export const HOST_METRICS_COLLECTORS = ['cpu', 'memory', 'load', 'filesystem', 'disk', 'network'] as const;
export type HostMetricsCollectorName = (typeof HOST_METRICS_COLLECTORS)[number];

/**
 * node_exporter 1.5's defaults, so that dashboards and alerts written for it see the same series.
 * (Debian patches its package's defaults: it also excludes /run, /mnt and /media, and netdev excludes `lo`.)
 */
export const DEFAULT_MOUNT_POINTS_EXCLUDE = '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)';
export const DEFAULT_FS_TYPES_EXCLUDE =
  '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$';
export const DEFAULT_DISK_DEVICES_EXCLUDE = '^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$';

/** Compiled once per distinct pattern: collections run every few seconds and the patterns never change after start-up. */
const compiled = new Map<string, RegExp>();

/**
 * Patterns are JavaScript regular expressions without flags, matched unanchored like node_exporter's Go
 * `MatchString`. Go-only syntax such as `(?i)` fails validation rather than silently matching something else.
 */
export function compileDevicePattern(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(pattern);
    compiled.set(pattern, regex);
  }
  return regex;
}

/** V8 words it "Invalid regular expression: /(/: Unterminated group"; the key path already names the pattern. */
function regexProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

function pattern(defaultPattern: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      try {
        compileDevicePattern(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${regexProblem(error)}` });
      }
    })
    .default(defaultPattern);
}

export const hostMetricsSourceSchema = z.strictObject({
  type: z.literal('host_metrics'),
  interval: duration()
    .refine((ms) => ms > 0, { message: 'must be longer than 0' })
    .default(15_000),
  collectors: z
    .array(z.enum(HOST_METRICS_COLLECTORS))
    .min(1, { message: `name at least one of ${HOST_METRICS_COLLECTORS.join(', ')}` })
    .refine((names) => new Set(names).size === names.length, { message: 'names a collector twice' })
    .default([...HOST_METRICS_COLLECTORS]),
  /** Where procfs is mounted; a container watching its host mounts the host's /proc elsewhere (node_exporter `--path.procfs`). */
  proc_path: z.string().min(1).default('/proc'),
  /** Where sysfs is mounted: CPU thermal throttle counts and network `rx_nohandler` come from here (`--path.sysfs`). */
  sys_path: z.string().min(1).default('/sys'),
  /**
   * The host's root file system as this process sees it (`--path.rootfs`): statfs goes to `<root_fs_path><mount point>`,
   * and the prefix is stripped from mount points listed under it.
   */
  root_fs_path: z.string().min(1).default('/'),
  /** udev's database, for `node_disk_info` labels (model, serial, …) and the udev-derived disk families (`--path.udev.data`). */
  udev_data_path: z.string().min(1).default('/run/udev/data'),
  filesystem: z
    .strictObject({
      mount_points_exclude: pattern(DEFAULT_MOUNT_POINTS_EXCLUDE),
      fs_types_exclude: pattern(DEFAULT_FS_TYPES_EXCLUDE),
      /**
       * A statfs that has not answered by then (a dead NFS server) reports `device_error` 1, and the mount is not
       * asked again until that call returns, so a hung mount holds at most one thread-pool thread.
       */
      mount_timeout: duration()
        .refine((ms) => ms > 0, { message: 'must be longer than 0' })
        .default(5_000),
    })
    .prefault({}),
  disk: z.strictObject({ devices_exclude: pattern(DEFAULT_DISK_DEVICES_EXCLUDE) }).prefault({}),
  /** node_exporter's netdev excludes nothing by default; `^$` matches no device name. */
  network: z.strictObject({ devices_exclude: pattern('^$') }).prefault({}),
  /** The `job` label of these series, as Prometheus would set it for a node_exporter target. */
  job: z.string().min(1).default('node'),
  /** Labels added to every series, as a scrape config's target labels would be. */
  labels: z
    .record(z.string(), z.string())
    .superRefine((labels, ctx) => {
      for (const name of Object.keys(labels)) {
        if (name === 'job' || name === 'instance') {
          ctx.addIssue({ code: 'custom', path: [name], message: 'set the job with the "job" key; "instance" is always the host name' });
        } else if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__')) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'not a label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"' });
        }
      }
    })
    .default({}),
});

export type HostMetricsSourceConfig = z.output<typeof hostMetricsSourceSchema>;
