import { z } from 'zod';
import { byteSize, duration } from '../../../shared/config/schema.js';
import { containerFormatSchema } from './container/config.js';
import { multilineSchema } from './multiline/config.js';

/** Rotated-and-compressed files are never tailed unless `ignore_compressed: false`: their bytes are not lines. */
export const COMPRESSED_FILE_PATTERNS = ['*.gz', '*.bz2', '*.xz', '*.zst', '*.zip', '*.lz4', '*.Z'];

export const fileSourceSchema = z.strictObject({
  type: z.literal('file'),
  /** Glob patterns of files to tail (absolute, or relative to the working directory). */
  include: z.array(z.string().min(1)).min(1),
  exclude: z.array(z.string().min(1)).default([]),
  /** Where to start in a file found at start-up that has no checkpoint. Files appearing later are read from the beginning. */
  start_at: z.enum(['beginning', 'end']).default('beginning'),
  /** Lines longer than this are cut, flagged `truncated` and counted. */
  max_line_bytes: byteSize({ min: 1, max: 1024 ** 3 }).default(256 * 1024),
  /**
   * Bytes per read while catching up; held only while a file has unread data. Larger reads cost fewer
   * round trips through the thread pool: 256 KiB read about 10% more lines per CPU-second than 64 KiB.
   */
  read_chunk_bytes: byteSize({ min: 1, max: 64 * 1024 ** 2 }).default(256 * 1024),
  /** Safety net behind file-system events: how often files are re-checked for growth and new files searched. */
  poll_interval: duration({ min: 1 }).default(1_000),
  /**
   * Which symbolic links (a matched file, or a directory on its way) are followed. `within_roots`: only when the
   * resolved file lies under an include pattern's base directory or under one of `symlink_roots`, so someone who can
   * create a file in a watched directory cannot make the agent ship any file it can read. `never`, `always`.
   */
  follow_symlinks: z.enum(['within_roots', 'never', 'always']).default('within_roots'),
  /**
   * Further directories symlink targets may lie in. The default keeps Kubernetes working: /var/log/containers links
   * into /var/log/pods, which with the Docker runtime links on into /var/lib/docker/containers.
   */
  symlink_roots: z.array(z.string().min(1)).default(['/var/log/pods', '/var/lib/docker/containers']),
  /** How files are told apart whatever their path (see file-identity.ts). */
  fingerprint: z
    .strictObject({
      strategy: z.enum(['checksum', 'device_inode']).default('checksum'),
      max_bytes: byteSize({ min: 1, max: 1024 ** 2 }).default(1024),
      ignored_header_bytes: byteSize().default(0),
    })
    .prefault({}),
  /** How long a rotated or deleted file is still read after it last grew, for writers that reopen late. */
  rotate_wait: duration().default(5_000),
  /** Descriptors held at once; more files than this take turns. */
  max_open_files: z.number().int().min(1).default(256),
  ignore_compressed: z.boolean().default(true),
  encoding: z.enum(['utf-8', 'utf-16le', 'utf-16be', 'latin1']).default('utf-8'),
  /** Container runtime log formats: `cri` (containerd, CRI-O), `docker` (json-file), `auto`, or `none`. */
  format: containerFormatSchema,
  /** Adds k8s.pod.name, k8s.namespace.name, k8s.container.name, container.id from /var/log/containers and /var/log/pods paths. */
  kubernetes_metadata: z.boolean().default(true),
  multiline: multilineSchema.optional(),
  /** Labels copied onto every event; the collector puts them in the record's resource. */
  labels: z.record(z.string(), z.string()).default({}),
});

export type FileSourceConfig = z.output<typeof fileSourceSchema>;
