/**
 * How `tributary top` and `tributary tap` reach a process's telemetry endpoint: http or https (trusting
 * `--ca-file`), with the credentials `telemetry.auth` asks for, read from files so they never sit in shell
 * history or `ps` output. One request core (shared/http/exchange.ts), as every other client here.
 */
import { readFile } from 'node:fs/promises';
import { basicAuthorization, exchange, type HttpResponse } from '../shared/http/exchange.js';

export interface TelemetryConnection {
  readonly caFile?: string | undefined;
  readonly bearerTokenFile?: string | undefined;
  readonly username?: string | undefined;
  readonly passwordFile?: string | undefined;
}

export interface TelemetryRequest {
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly onBodyChunk?: (chunk: Buffer, status: number) => void;
  readonly signal?: AbortSignal;
}

/** A telemetry base URL as given on the command line: `host:port` means http. */
export function telemetryUrl(text: string): URL {
  const url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--url ${text}: expected an http or https URL`);
  return url;
}

async function trimmedFile(path: string, flag: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    throw new Error(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The headers and TLS options the connection flags ask for, read once. */
export async function connectionOptions(connection: TelemetryConnection): Promise<{ headers: Record<string, string>; ca: Buffer | undefined }> {
  const headers: Record<string, string> = {};
  if (connection.bearerTokenFile !== undefined) headers.authorization = `Bearer ${await trimmedFile(connection.bearerTokenFile, '--bearer-token-file')}`;
  if (connection.username !== undefined) {
    if (connection.passwordFile === undefined) throw new Error('--username needs --password-file');
    headers.authorization = basicAuthorization(connection.username, await trimmedFile(connection.passwordFile, '--password-file'));
  }
  const ca = connection.caFile === undefined ? undefined : await readFile(connection.caFile);
  return { headers, ca };
}

/** GET `path` (with its query) from the process at `base`; any status is returned for the caller to judge. */
export function telemetryGet(
  base: URL,
  path: string,
  options: { headers: Record<string, string>; ca: Buffer | undefined },
  request: TelemetryRequest,
): Promise<HttpResponse> {
  const url = new URL(path, base);
  return exchange({
    url,
    method: 'GET',
    headers: options.headers,
    tls: options.ca === undefined ? undefined : { ca: options.ca },
    timeoutMs: request.timeoutMs,
    where: `GET ${url.origin}${url.pathname}`,
    maxBodyBytes: request.maxBodyBytes,
    onBodyChunk: request.onBodyChunk,
    signal: request.signal,
  });
}
