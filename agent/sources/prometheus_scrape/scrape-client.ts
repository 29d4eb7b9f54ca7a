import { readSecretFile } from '../../../shared/secret-files.js';
import { basicAuthorization, exchange, HttpRequestError, type HttpResponse } from '../../../shared/http/exchange.js';
import { ReloadingTlsOptions, type TlsReloadSettings } from '../../../shared/http/reloading-tls.js';
import type { TlsClientOptions } from '../../../shared/http/tls.js';
import type { ScrapeJobConfig } from './config.js';
import type { TlsFailureKeys } from '../../../shared/tls-failures.js';

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

/**
 * TLS material read when the job starts and re-read when its files change (each scrape is a connection of its
 * own, so the next scrape uses them); credential files are re-read per scrape so rotation works.
 */
export interface ScrapeClientOptions {
  job: ScrapeJobConfig;
  /** The TLS options as they are now; without it, Node's defaults (system CAs, verification on). */
  tls?: { readonly options: TlsClientOptions };
}

/** The job's client options; close() stops watching its TLS files. */
export async function loadScrapeClientOptions(job: ScrapeJobConfig, tlsReload?: TlsReloadSettings): Promise<ScrapeClientOptions & { close: () => void }> {
  const tls = await ReloadingTlsOptions.open(job.tls_config, `scrape_configs[${job.job_name}].tls_config`, tlsReload);
  return { job, tls, close: () => tls.close() };
}

async function authorizationHeader(job: ScrapeJobConfig): Promise<string | undefined> {
  if (job.basic_auth) {
    const password =
      job.basic_auth.password_file === undefined
        ? (job.basic_auth.password ?? '')
        : await readSecretFile(job.basic_auth.password_file, 'basic_auth.password_file');
    return basicAuthorization(job.basic_auth.username, password);
  }
  if (job.authorization) {
    const { type, credentials, credentials_file: file } = job.authorization;
    const secret = file === undefined ? credentials : await readSecretFile(file, 'authorization.credentials_file');
    return secret === undefined ? undefined : `${type} ${secret}`;
  }
  return undefined;
}

/**
 * One GET of a target's exposition, through shared/http/exchange.ts: a
 * connection of its own (no keep-alive, as Prometheus), the job's TLS, the
 * body decoded and capped at `body_size_limit` as it streams (received and
 * decoded bytes both count, so neither a gzip bomb nor an endless body gets
 * past it), everything within `scrape_timeout`. Failures become ScrapeErrors
 * worded as Prometheus words them: they end up as the target's error.
 */
/** A TLS failure names the job's keys, as Prometheus spells them. */
const SCRAPE_TLS_KEYS: TlsFailureKeys = {
  peer: 'target',
  tls: 'tls_config',
  address: 'the targets',
  notTls: "check the job's scheme and that its targets serve https",
};

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
  let response: HttpResponse;
  try {
    response = await exchange({
      url: new URL(url),
      method: 'GET',
      headers,
      tls: options.tls?.options,
      tlsKeys: SCRAPE_TLS_KEYS,
      timeoutMs: job.scrape_timeout,
      where: `GET ${url}`,
      signal,
      // 0 is Prometheus' "no limit".
      maxBodyBytes: job.body_size_limit > 0 ? job.body_size_limit : Infinity,
      // An error page is not parsed: its connection is closed unread.
      readBody: (status) => status === 200,
    });
  } catch (error) {
    throw scrapeError(error, url, options.job, signal);
  }
  if (response.status !== 200) throw new ScrapeError(`server returned HTTP status ${response.status} ${response.statusMessage}`.trim(), url);
  return { body: response.body.toString('utf8'), contentType: response.headers['content-type'] };
}

/** A failed exchange in the scrape's words; the scrape's signal is its timeout (scrape-loop.ts), so its abort is one. */
function scrapeError(error: unknown, url: string, job: ScrapeJobConfig, signal: AbortSignal): ScrapeError {
  if (!(error instanceof HttpRequestError)) return new ScrapeError(error instanceof Error ? error.message : String(error), url);
  switch (error.failure) {
    case 'too_large':
      return new ScrapeError(`body exceeds body_size_limit of ${job.body_size_limit} bytes`, url);
    case 'timeout':
    case 'aborted':
      return new ScrapeError(`timed out after ${job.scrape_timeout} ms`, url);
    case 'read':
      if (signal.aborted) return new ScrapeError(`timed out after ${job.scrape_timeout} ms`, url);
      return new ScrapeError(
        error.contentEncoding === undefined || error.contentEncoding === 'identity'
          ? `body unreadable: ${error.reason}`
          : `${error.contentEncoding} body unreadable: ${error.reason}`,
        url,
      );
    case 'request':
      return new ScrapeError(signal.aborted ? `timed out after ${job.scrape_timeout} ms` : error.reason, url);
  }
}
