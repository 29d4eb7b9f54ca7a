import { readSecretFile, readTlsFiles } from '../../../shared/secret-files.js';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createGunzip, createInflate } from 'node:zlib';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ScrapeJobConfig } from './config.js';

/** What Prometheus 2.x sends: OpenMetrics preferred, the text format accepted. */
export const SCRAPE_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const USER_AGENT = 'Tributary-Agent/0.1';

export interface ScrapeResponse {
  body: string;
  contentType: string | undefined;
}

export class ScrapeError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(`${url}: ${message}`);
    this.name = 'ScrapeError';
  }
}

/** TLS material and credentials read when the job starts; credential files are re-read per scrape so rotation works. */
export interface ScrapeClientOptions {
  job: ScrapeJobConfig;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export async function loadScrapeClientOptions(job: ScrapeJobConfig): Promise<ScrapeClientOptions> {
  return { job, ...(await readTlsFiles(job.tls_config, `scrape_configs[${job.job_name}].tls_config`)) };
}

async function authorizationHeader(job: ScrapeJobConfig): Promise<string | undefined> {
  if (job.basic_auth) {
    const password =
      job.basic_auth.password_file === undefined
        ? (job.basic_auth.password ?? '')
        : await readSecretFile(job.basic_auth.password_file, 'basic_auth.password_file');
    return `Basic ${Buffer.from(`${job.basic_auth.username}:${password}`).toString('base64')}`;
  }
  if (job.authorization) {
    const { type, credentials, credentials_file: file } = job.authorization;
    const secret = file === undefined ? credentials : await readSecretFile(file, 'authorization.credentials_file');
    return secret === undefined ? undefined : `${type} ${secret}`;
  }
  return undefined;
}

/**
 * One GET of a target's exposition with node's http(s) rather than fetch:
 * a per-job CA, client certificate and `servername` need an https Agent's
 * options, which Node 20's built-in fetch does not take without the undici
 * package. The body is capped while it streams, decompressed or not.
 */
export async function scrapeTarget(url: string, options: ScrapeClientOptions, signal: AbortSignal): Promise<ScrapeResponse> {
  const { job } = options;
  const headers: Record<string, string> = {
    accept: SCRAPE_ACCEPT,
    'accept-encoding': 'gzip, deflate',
    'user-agent': USER_AGENT,
    'x-prometheus-scrape-timeout-seconds': String(job.scrape_timeout / 1000),
  };
  const authorization = await authorizationHeader(job);
  if (authorization !== undefined) headers.authorization = authorization;
  const target = new URL(url);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const requestOptions = { method: 'GET', headers, signal, agent: false as const };
    const request =
      target.protocol === 'https:'
        ? httpsRequest(target, {
            ...requestOptions,
            ca: options.ca,
            cert: options.cert,
            key: options.key,
            servername: job.tls_config?.server_name,
            rejectUnauthorized: !(job.tls_config?.insecure_skip_verify ?? false),
          })
        : httpRequest(target, requestOptions);
    request.once('response', resolve);
    request.once('error', (error) => reject(new ScrapeError(signal.aborted ? `timed out after ${job.scrape_timeout} ms` : error.message, url)));
    request.end();
  });
  if (response.statusCode !== 200) {
    response.resume();
    throw new ScrapeError(`server returned HTTP status ${response.statusCode ?? '?'} ${response.statusMessage ?? ''}`.trim(), url);
  }
  const body = await readCappedBody(response, job.body_size_limit, signal, url, job.scrape_timeout);
  return { body, contentType: response.headers['content-type'] };
}

/**
 * The response body, decompressed as its Content-Encoding says, failed once more than `limit` bytes (0 = no limit)
 * come out of the decompressor. One `pipeline` with the scrape's signal joins the stages: `.pipe()` forwarded neither
 * an abort nor an error, so a compressed body that stalled or was reset left the scrape (and with it the target's
 * every later scrape) waiting forever. Now a timeout, a reset, corrupt or truncated compression and a decompression
 * bomb each end the scrape with a ScrapeError saying which, and every stage is destroyed.
 */
async function readCappedBody(response: IncomingMessage, limit: number, signal: AbortSignal, url: string, timeoutMs: number): Promise<string> {
  const encoding = response.headers['content-encoding'];
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (limit > 0 && size > limit) {
        callback(new ScrapeError(`body exceeds body_size_limit of ${limit} bytes`, url));
        return;
      }
      chunks.push(chunk);
      callback();
    },
  });
  try {
    if (encoding === 'gzip') await pipeline(response, createGunzip(), collect, { signal });
    else if (encoding === 'deflate') await pipeline(response, createInflate(), collect, { signal });
    else await pipeline(response, collect, { signal });
  } catch (error) {
    if (error instanceof ScrapeError) throw error;
    if (signal.aborted) throw new ScrapeError(`timed out after ${timeoutMs} ms`, url);
    const reason = error instanceof Error ? error.message : String(error);
    const compressed = encoding === 'gzip' || encoding === 'deflate';
    throw new ScrapeError(compressed ? `${encoding} body unreadable: ${reason}` : `body unreadable: ${reason}`, url);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
