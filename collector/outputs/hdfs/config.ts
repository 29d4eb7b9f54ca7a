import { userInfo } from 'node:os';
import { z } from 'zod';
import { byteSize, duration, retrySchema } from '../../../shared/config/schema.js';
import { httpTlsSchema } from '../../../shared/http/tls.js';
import { parsePathTemplate, type PathTemplate } from './path-template.js';

const namenode = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected the namenode HTTP address, such as http://namenode:9870' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `expected http or https, got ${url.protocol}` });
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'only scheme, host and port: the client adds /webhdfs/v1 and authenticates by user.name or token' });
  }
});

const pathTemplate = z.string().transform((source, ctx): PathTemplate => {
  const parsed = parsePathTemplate(source);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

/** Who writes when no token is set: $HADOOP_USER_NAME, else the OS user, as Hadoop's own client decides. */
function defaultUser(): string {
  const fromEnv = process.env.HADOOP_USER_NAME;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'tributary';
  }
}

export const hdfsOutputSchema = z
  .strictObject({
    type: z.literal('hdfs'),
    /** Every namenode's HTTP address (HA: active and standbys, any order); requests go to the one that answers as active. */
    namenodes: z.array(namenode).min(1),
    /** Directory template; see README. Time placeholders use the record's timestamp in UTC. */
    path: pathTemplate.prefault('/tributary/{record.type}/dt={yyyy-MM-dd}/hr={HH}'),
    /** What a placeholder whose key the record lacks renders as. */
    missing_value: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-", not starting with "_" or "."')
      .default('unknown'),
    format: z.enum(['ndjson']).default('ndjson'),
    compression: z.enum(['gzip', 'zstd', 'none']).default('gzip'),
    /** gzip 1-9 (default 6), zstd 1-19 (default 3). */
    compression_level: z.number().int().min(1).max(19).optional(),
    roll: z
      .strictObject({
        /** A file is finished once it holds this many (compressed) bytes. */
        max_bytes: byteSize({ min: 1 })
          .default(128 * 1024 * 1024)
          .pipe(z.number().int().min(1024, 'at least 1KiB')),
        /** … or this many records. */
        max_records: z.number().int().min(1).default(1_000_000),
        /** … or it was opened this long ago. */
        interval: duration({ min: 1 }).default(10 * 60_000),
        /** … or nothing was appended to it for this long. */
        idle_timeout: duration({ min: 1 }).default(60_000),
        /** Files open at once; past it the least recently written one is finished. */
        max_open_files: z.number().int().min(1).default(256),
      })
      .prefault({}),
    auth: z
      .strictObject({
        /** `user.name` for simple auth (ignored when a token is set). */
        user: z.string().min(1).default(defaultUser),
        /** A delegation token (the `urlString` of GETDELEGATIONTOKEN). */
        delegation_token: z.string().min(1).optional(),
        /** A mounted token file, re-read when the namenode refuses the token. */
        delegation_token_file: z.string().min(1).optional(),
      })
      .prefault({})
      .refine((auth) => auth.delegation_token === undefined || auth.delegation_token_file === undefined, {
        message: 'set at most one of delegation_token and delegation_token_file',
      }),
    /**
     * TLS to https namenodes and to the datanodes they redirect to (`dfs.http.policy=HTTPS_ONLY`): the CA that
     * signed their certificates, `server_name` when they name another host. Without it, Node's CAs.
     */
    tls: httpTlsSchema.optional(),
    request_timeout: duration({ min: 1 }).default(30_000),
    retry: retrySchema(
      { initial_backoff: 500, max_backoff: 30_000 },
      {
        /** Tries of one write before it fails to the pipeline (which retries the step); unset, retried while the collector runs. */
        max_attempts: z.number().int().min(1).optional(),
      },
    ),
  })
  .superRefine((config, ctx) => {
    if (config.compression_level !== undefined && config.compression === 'gzip' && config.compression_level > 9) {
      ctx.addIssue({ code: 'custom', path: ['compression_level'], message: 'gzip levels are 1-9' });
    }
    if (config.compression_level !== undefined && config.compression === 'none') {
      ctx.addIssue({ code: 'custom', path: ['compression_level'], message: 'no level without compression' });
    }
    if (config.tls !== undefined && !config.namenodes.some((value) => value.startsWith('https:'))) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls is set but no namenode uses https' });
    }
  });

export type HdfsOutputConfig = z.output<typeof hdfsOutputSchema>;
