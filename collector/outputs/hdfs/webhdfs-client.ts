import { readSecretFile } from '../../../shared/secret-files.js';
import { Agent as HttpAgent } from 'node:http';
import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { exchange, type HttpResponse } from '../../../shared/http/exchange.js';
import { HttpRequestError, isConnectionRefused } from '../../../shared/http/http-errors.js';
import { ReloadingHttpsAgent, type TlsReloadSettings } from '../../../shared/http/reloading-tls.js';
import type { HttpTlsConfig } from '../../../shared/http/tls.js';
import type { TlsFailureKeys } from '../../../shared/tls-failures.js';

/**
 * The WebHDFS REST API (https://hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-hdfs/WebHDFS.html),
 * the calls the HDFS sink needs and nothing else, over node:http:
 *
 * - HA: a list of namenodes; a request goes to the one that answered last,
 *   and moves on when a namenode refuses the connection, times out or says it
 *   is the standby (`StandbyException`) or not ready (`RetriableException`,
 *   `SafeModeException`).
 * - CREATE and APPEND are two steps: the namenode answers 307 with the
 *   datanode to send the bytes to (random ports in a mini cluster, another
 *   host in a real one), and the body goes there.
 * - Each request, to a namenode or a datanode, is one shared/http/exchange.ts
 *   exchange: its deadline, its capped and decoded body, its typed errors.
 * - Auth: `user.name` (simple auth) or a delegation token (`delegation=`,
 *   re-read from its file when refused); the namenode copies either into the
 *   datanode URL it redirects to.
 * - TLS: https namenodes and the https datanodes they redirect to are
 *   verified alike, with `tls` (a CA, `server_name`); a TLS failure names the
 *   key to check and is `blocked` (waiting will not fix it).
 *
 * Errors are TributaryErrors. `context.uncertain` says a mutating request may
 * have been applied (the connection failed after it was sent): the caller must
 * look at HDFS before trying again. Everything else either surely did not
 * happen (connection refused, a RemoteException) or is a read.
 */
export interface WebHdfsOptions {
  /** `http(s)://host:port` of each namenode's HTTP server, active and standby. */
  namenodes: readonly string[];
  /** `user.name` for simple auth; ignored when a delegation token is set. */
  user: string;
  delegationToken?: string;
  /** A file holding the token; read at open() and again when the namenode refuses it. */
  delegationTokenFile?: string;
  requestTimeoutMs: number;
  /** TLS for https namenodes and datanodes; without it, Node's defaults (system CAs, verification on). */
  tls?: HttpTlsConfig | undefined;
  /** How the TLS files are watched for a rotation (shared/http/reloading-tls.ts). */
  tlsReload?: TlsReloadSettings | undefined;
  /** Where the output's config sits (`outputs.hdfs`), for errors naming a key. */
  configKey?: string;
}

export interface FileStatus {
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  modificationTime: number;
}

type Reply = HttpResponse;

interface RemoteException {
  exception: string;
  message: string;
}

/**
 * The most a reply may hold (received or decoded): namenode JSON is small (a directory listing of ten thousand
 * files is ~3 MB), and read() is for marker files and tests. Over it, the read fails with ResponseTooLargeError.
 */
export const WEBHDFS_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Exceptions after which another namenode (or the same one, later) may succeed, and nothing was changed. */
const NOT_ACTIVE = new Set(['StandbyException', 'RetriableException', 'SafeModeException', 'ObserverRetryOnActiveException']);
/** File-state conflicts the caller resolves by looking at HDFS again: a lease still held, a block still recovering. */
const LEASE_BUSY = new Set(['AlreadyBeingCreatedException', 'RecoveryInProgressException', 'LeaseExpiredException']);
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 16 };

export class WebHdfsClient {
  private active = 0;
  private token: string | undefined;
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  /** Created at open() with the configured TLS files, which it re-reads when they change. */
  private httpsAgent: ReloadingHttpsAgent | undefined;
  private readonly tlsKeys: TlsFailureKeys;

  constructor(private readonly options: WebHdfsOptions) {
    this.token = options.delegationToken;
    const key = (name: string) => (options.configKey === undefined ? name : `${options.configKey}.${name}`);
    this.tlsKeys = { peer: 'server', tls: key('tls'), address: key('namenodes'), notTls: `check that the https URLs in ${key('namenodes')} name HTTPS ports` };
  }

  get namenodes(): readonly string[] {
    return this.options.namenodes;
  }

  /** The namenode requests go to first (the last one that answered as active). */
  get activeNamenode(): string {
    return this.options.namenodes[this.active] ?? '';
  }

  /** Reads the TLS files and the token file; errors name the key, never the content. */
  async open(): Promise<void> {
    const httpsAgent = await ReloadingHttpsAgent.open(this.options.tls, this.tlsKeys.tls, AGENT_OPTIONS, this.options.tlsReload);
    this.httpsAgent?.close();
    this.httpsAgent = httpsAgent;
    await this.reloadToken();
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.close();
  }

  async getFileStatus(path: string, signal?: AbortSignal): Promise<FileStatus | undefined> {
    const reply = await this.namenode('GET', path, 'GETFILESTATUS', {}, signal, false);
    if (reply.status === 404) return undefined;
    return (this.json(reply, 'GETFILESTATUS', path) as { FileStatus: FileStatus }).FileStatus;
  }

  /** The directory's entries, or undefined when it does not exist. */
  async listStatus(path: string, signal?: AbortSignal): Promise<FileStatus[] | undefined> {
    const reply = await this.namenode('GET', path, 'LISTSTATUS', {}, signal, false);
    if (reply.status === 404) return undefined;
    return (this.json(reply, 'LISTSTATUS', path) as { FileStatuses: { FileStatus: FileStatus[] } }).FileStatuses.FileStatus;
  }

  async mkdirs(path: string, signal?: AbortSignal): Promise<void> {
    const reply = await this.namenode('PUT', path, 'MKDIRS', {}, signal, true);
    if (!(this.json(reply, 'MKDIRS', path) as { boolean: boolean }).boolean) throw this.failure('MKDIRS', path, reply, false);
  }

  /** False when the source does not exist or the destination does (WebHDFS says no more). */
  async rename(from: string, to: string, signal?: AbortSignal): Promise<boolean> {
    const reply = await this.namenode('PUT', from, 'RENAME', { destination: to }, signal, true);
    return (this.json(reply, 'RENAME', from) as { boolean: boolean }).boolean;
  }

  /** True when the file is at `length` now; false when the last block is being recovered (poll its length). */
  async truncate(path: string, length: number, signal?: AbortSignal): Promise<boolean> {
    const reply = await this.namenode('POST', path, 'TRUNCATE', { newlength: String(length) }, signal, true);
    return (this.json(reply, 'TRUNCATE', path) as { boolean: boolean }).boolean;
  }

  async delete(path: string, signal?: AbortSignal): Promise<boolean> {
    const reply = await this.namenode('DELETE', path, 'DELETE', { recursive: 'false' }, signal, true);
    return (this.json(reply, 'DELETE', path) as { boolean: boolean }).boolean;
  }

  /** Creates a file with `data` (parents too); fails with FileAlreadyExistsException unless `overwrite`. */
  async create(path: string, data: Buffer, options: { overwrite: boolean }, signal?: AbortSignal): Promise<void> {
    await this.twoStep('PUT', path, 'CREATE', { overwrite: String(options.overwrite) }, data, 201, signal);
  }

  async append(path: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    await this.twoStep('POST', path, 'APPEND', {}, data, 200, signal);
  }

  /** The whole file (tests, small marker files), at most `maxBytes` of it (else a ResponseTooLargeError). */
  async read(path: string, signal?: AbortSignal, maxBytes = WEBHDFS_MAX_RESPONSE_BYTES): Promise<Buffer> {
    const reply = await this.namenode('GET', path, 'OPEN', {}, signal, false, maxBytes);
    if (reply.status !== 307) {
      if (reply.status === 200) return reply.body;
      throw this.failure('OPEN', path, reply, false);
    }
    const location = this.location(reply, 'OPEN', path);
    const data = await this.send('GET', location, undefined, signal, maxBytes).catch((error: unknown) => {
      throw new TributaryError('SINK_UNAVAILABLE', `WebHDFS OPEN ${path} at the datanode: ${errorMessage(error)}`, { retriable: true, cause: error });
    });
    if (data.status !== 200) throw this.failure('OPEN', path, data, false);
    return data.body;
  }

  private async twoStep(
    method: 'PUT' | 'POST',
    path: string,
    op: 'CREATE' | 'APPEND',
    params: Record<string, string>,
    data: Buffer,
    expected: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // Step 1 carries no data: the namenode only chooses the datanode, so it is safe to send to any namenode.
    const redirect = await this.namenode(method, path, op, params, signal, false);
    if (redirect.status !== 307) throw this.failure(op, path, redirect, false);
    const location = this.location(redirect, op, path);
    let reply: Reply;
    try {
      reply = await this.send(method, location, data, signal);
    } catch (error) {
      if (signal?.aborted) throw shutdownError(op, path, error);
      // Refused: the datanode never saw the bytes. Anything later: they may be in the file, in part or whole.
      const refused = neverSent(error);
      throw new TributaryError('SINK_UNAVAILABLE', `WebHDFS ${op} ${path}: datanode ${new URL(location).host}: ${errorMessage(error)}`, {
        retriable: true,
        cause: error,
        context: { uncertain: !refused, op, path },
      });
    }
    // Even a RemoteException may come after part of the body reached the block: the caller looks before retrying.
    if (reply.status !== expected) throw this.failure(op, path, reply, true);
  }

  /**
   * One request to the active namenode, moving on to the others when it is
   * unreachable or not active. `mutating` marks requests that change HDFS: a
   * connection that fails after sending one leaves it uncertain (no failover
   * then: the caller must look first).
   */
  private async namenode(
    method: string,
    path: string,
    op: string,
    params: Record<string, string>,
    signal: AbortSignal | undefined,
    mutating: boolean,
    maxBytes = WEBHDFS_MAX_RESPONSE_BYTES,
  ): Promise<Reply> {
    const count = this.options.namenodes.length;
    const reasons: string[] = [];
    let tlsFailed = false;
    for (let tried = 0; tried < count; tried++) {
      const index = (this.active + tried) % count;
      const base = this.options.namenodes[index] as string;
      const url = this.url(base, path, op, params);
      let reply: Reply;
      try {
        reply = await this.send(method, url, undefined, signal, maxBytes);
      } catch (error) {
        if (signal?.aborted) throw shutdownError(op, path, error);
        if (mutating && !neverSent(error)) {
          throw new TributaryError('SINK_UNAVAILABLE', `WebHDFS ${op} ${path} at ${base}: ${errorMessage(error)}`, {
            retriable: true,
            cause: error,
            context: { uncertain: true, op, path },
          });
        }
        reasons.push(`${base}: ${errorMessage(error)}`);
        if (error instanceof HttpRequestError && error.tls !== undefined) tlsFailed = true;
        continue;
      }
      const remote = remoteException(reply);
      if (remote !== undefined && NOT_ACTIVE.has(remote.exception)) {
        reasons.push(`${base}: ${remote.exception}`);
        continue;
      }
      if ((reply.status === 401 || reply.status === 403) && this.options.delegationTokenFile !== undefined) await this.reloadToken().catch(() => undefined);
      if (reply.status >= 500 && remote === undefined) {
        reasons.push(`${base}: HTTP ${reply.status}`);
        continue;
      }
      this.active = index;
      return reply;
    }
    throw new TributaryError('SINK_UNAVAILABLE', `WebHDFS ${op} ${path}: no active namenode answered (${reasons.join('; ')})`, {
      retriable: true,
      // blocked: a TLS failure will not heal by waiting (logged as an error, not a warning).
      context: { uncertain: false, op, path, blocked: tlsFailed },
    });
  }

  private url(base: string, path: string, op: string, params: Record<string, string>): string {
    const query = new URLSearchParams({ op, ...params });
    if (this.token !== undefined) query.set('delegation', this.token);
    else query.set('user.name', this.options.user);
    return `${base.replace(/\/+$/, '')}/webhdfs/v1${encodePath(path)}?${query.toString()}`;
  }

  private location(reply: Reply, op: string, path: string): string {
    const location = reply.headers.location;
    if (typeof location !== 'string' || !URL.canParse(location)) {
      throw new TributaryError('SINK_UNAVAILABLE', `WebHDFS ${op} ${path}: a 307 without a usable Location`, { retriable: true });
    }
    return location;
  }

  private json(reply: Reply, op: string, path: string): unknown {
    if (reply.status !== 200) throw this.failure(op, path, reply, false);
    try {
      return JSON.parse(reply.body.toString('utf8'));
    } catch {
      throw new TributaryError('SINK_UNAVAILABLE', `WebHDFS ${op} ${path}: a response that is not JSON`, { retriable: true });
    }
  }

  /** An error response classified: lease and recovery conflicts, server errors and auth failures retry; the rest is permanent. */
  private failure(op: string, path: string, reply: Reply, uncertain: boolean): TributaryError {
    const remote = remoteException(reply);
    const what = remote ? `${remote.exception}: ${remote.message}` : `HTTP ${reply.status} ${reply.body.toString('utf8').slice(0, 200)}`;
    const exception = remote?.exception;
    const notFound = exception === 'FileNotFoundException' || reply.status === 404;
    const exists = exception === 'FileAlreadyExistsException';
    const retriable =
      notFound ||
      exists ||
      (exception !== undefined && (LEASE_BUSY.has(exception) || NOT_ACTIVE.has(exception))) ||
      reply.status >= 500 ||
      reply.status === 401 ||
      reply.status === 403 ||
      reply.status === 429 ||
      reply.status === 307;
    return new TributaryError(retriable ? 'SINK_UNAVAILABLE' : 'SINK_REJECTED', `WebHDFS ${op} ${path}: ${what}`, {
      retriable,
      context: { uncertain, op, path, status: reply.status, exception, notFound, exists },
    });
  }

  private async reloadToken(): Promise<void> {
    if (this.options.delegationTokenFile === undefined) return;
    this.token = await readSecretFile(this.options.delegationTokenFile, 'auth.delegation_token_file');
  }

  /** One request through shared/http (deadline, capped body, typed errors); the query never appears in errors, it may hold the token. */
  private send(method: string, url: string, body: Buffer | undefined, signal: AbortSignal | undefined, maxBytes = WEBHDFS_MAX_RESPONSE_BYTES): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/octet-stream';
    // WebHDFS takes a mutation's arguments in the query: its empty body is said to be empty, not left to chunking.
    else if (method !== 'GET') headers['content-length'] = '0';
    const parsed = new URL(url);
    return exchange({
      url: parsed,
      method,
      headers,
      payload: body,
      agents: { http: this.httpAgent, https: this.httpsAgent?.agent },
      tlsKeys: this.tlsKeys,
      timeoutMs: this.options.requestTimeoutMs,
      where: `WebHDFS ${method} ${parsed.origin}${parsed.pathname}`,
      signal,
      maxBodyBytes: maxBytes,
    });
  }
}

/** `/a b/c%d` → `/a%20b/c%25d`: each segment percent-encoded, slashes kept. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

function remoteException(reply: Reply): RemoteException | undefined {
  if (reply.status < 400) return undefined;
  try {
    const parsed = JSON.parse(reply.body.toString('utf8')) as { RemoteException?: RemoteException };
    return parsed.RemoteException;
  } catch {
    return undefined;
  }
}

/** Refused, or the TLS handshake failed: the request never left the client, so trying again (or elsewhere) is safe. */
function neverSent(error: unknown): boolean {
  return isConnectionRefused(error) || (error instanceof HttpRequestError && error.tls !== undefined);
}

function shutdownError(op: string, path: string, cause: unknown): TributaryError {
  return new TributaryError('SHUTDOWN', `WebHDFS ${op} ${path}: aborted at shutdown`, { retriable: true, cause, context: { uncertain: true } });
}
