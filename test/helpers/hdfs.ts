import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { WebHdfsClient } from '../../collector/outputs/hdfs/webhdfs-client.js';

/** A WebHDFS client for reading back what a test or bench wrote; with `caFile` (an https cluster), call open() first. */
export function hdfsReader(namenodeUrl: string, caFile?: string): WebHdfsClient {
  return new WebHdfsClient({
    namenodes: [namenodeUrl],
    user: 'tributary',
    requestTimeoutMs: 30_000,
    ...(caFile !== undefined && { tls: { ca_file: caFile, insecure_skip_verify: false } }),
  });
}

export interface HdfsFile {
  path: string;
  length: number;
}

/** Every file under `dir`, recursively (an absent dir is empty), in path order. */
export async function listFiles(client: WebHdfsClient, dir: string): Promise<HdfsFile[]> {
  const entries = (await client.listStatus(dir)) ?? [];
  const files: HdfsFile[] = [];
  for (const entry of entries) {
    const path = `${dir === '/' ? '' : dir}/${entry.pathSuffix}`;
    if (entry.type === 'DIRECTORY') files.push(...(await listFiles(client, path)));
    else files.push({ path, length: entry.length });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * A file's lines, decompressed by its extension: gzip by node:zlib, zstd by
 * the `zstd` command-line tool (an independent decoder: the sink writes with
 * zstd-napi). Both read concatenated members/frames as one stream.
 */
export async function readLines(client: WebHdfsClient, path: string): Promise<string[]> {
  const data = await client.read(path);
  let text: string;
  if (path.endsWith('.gz')) text = gunzipSync(data).toString('utf8');
  else if (path.endsWith('.zst')) text = execFileSync('zstd', ['-dcq'], { input: data, maxBuffer: 1024 * 1024 * 1024 }).toString('utf8');
  else text = data.toString('utf8');
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${path} does not end with a newline`);
  return text.slice(0, -1).split('\n');
}

/** Whether a path is visible to Hadoop, Hive and Spark readers (no segment starting with '_' or '.'). */
export function visibleToReaders(path: string): boolean {
  return path.split('/').every((segment) => !segment.startsWith('_') && !segment.startsWith('.'));
}
