import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeLocal, listenLocal } from '../../../shared/test-support/ports.js';

/**
 * A small in-memory WebHDFS for unit tests: one namenode whose CREATE,
 * APPEND and OPEN redirect (307) to a "datanode" path on the same server,
 * as a real namenode does, with faults to inject: answering as a standby, and
 * a datanode that keeps part of an append and drops the connection.
 * Not a model of HDFS semantics beyond what the sink relies on.
 */
export interface FakeWebHdfsRequest {
  op: string;
  path: string;
  user: string | null;
  delegation: string | null;
  datanode: boolean;
}

export class FakeWebHdfs {
  readonly files = new Map<string, Buffer>();
  readonly dirs = new Set<string>(['/']);
  readonly requests: FakeWebHdfsRequest[] = [];
  /** Answer every namenode request with a StandbyException. */
  standby = false;
  /** The next datanode APPEND keeps this many bytes of its body and then drops the connection. */
  breakNextAppendAfter: number | undefined;
  /** The next this many namenode requests answer 503 without a RemoteException (a namenode down behind a proxy). */
  unavailableFor = 0;
  /** Awaited before a request is answered (recorded already): a test holds a request in flight with it. */
  beforeAnswer: ((request: FakeWebHdfsRequest) => Promise<void> | void) | undefined;
  private server: Server | undefined;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => void this.answer(request, response, Buffer.concat(chunks)));
    });
    this.port = await listenLocal(this.server);
  }

  async stop(): Promise<void> {
    await closeLocal(this.server);
  }

  /** Every file's path under `prefix`, sorted. */
  paths(prefix = '/'): string[] {
    return [...this.files.keys()].filter((path) => path.startsWith(prefix)).sort();
  }

  private async answer(request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const datanode = url.pathname.startsWith('/datanode');
    const path = decodeURIComponent(url.pathname.replace(/^\/(datanode|webhdfs\/v1)/, '')) || '/';
    const op = url.searchParams.get('op') ?? '';
    const recorded = { op, path, user: url.searchParams.get('user.name'), delegation: url.searchParams.get('delegation'), datanode };
    this.requests.push(recorded);
    await this.beforeAnswer?.(recorded);
    // The client gave up while the request was held: nothing to answer, and nothing done.
    if (response.destroyed) return;
    if (!datanode && this.unavailableFor > 0) {
      this.unavailableFor--;
      response.writeHead(503, { 'content-type': 'text/plain' });
      response.end('Service Unavailable');
      return;
    }
    this.handle(url, datanode, path, op, response, body);
  }

  private handle(url: URL, datanode: boolean, path: string, op: string, response: ServerResponse, body: Buffer): void {
    const json = (status: number, value: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    const remote = (status: number, exception: string, message: string): void =>
      json(status, { RemoteException: { exception, javaClassName: exception, message } });
    if (!datanode && this.standby) return remote(403, 'StandbyException', 'Operation category READ is not supported in state standby');
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    const status = (name: string, full: string): Record<string, unknown> => ({
      pathSuffix: name,
      type: this.dirs.has(full) ? 'DIRECTORY' : 'FILE',
      length: this.files.get(full)?.length ?? 0,
      modificationTime: 0,
    });
    const redirect = (): void => {
      response.writeHead(307, { location: `${this.url}/datanode${url.pathname.replace(/^\/webhdfs\/v1/, '')}${url.search}` });
      response.end();
    };
    switch (op) {
      case 'GETFILESTATUS':
        if (!this.files.has(path) && !this.dirs.has(path)) return remote(404, 'FileNotFoundException', `File does not exist: ${path}`);
        return json(200, { FileStatus: status('', path) });
      case 'LISTSTATUS': {
        if (!this.dirs.has(path)) return remote(404, 'FileNotFoundException', `File ${path} does not exist.`);
        const prefix = path === '/' ? '/' : `${path}/`;
        const children = [...this.files.keys(), ...this.dirs].filter(
          (entry) => entry !== path && entry.startsWith(prefix) && !entry.slice(prefix.length).includes('/'),
        );
        return json(200, { FileStatuses: { FileStatus: children.sort().map((child) => status(child.slice(prefix.length), child)) } });
      }
      case 'MKDIRS':
        this.mkdirs(path);
        return json(200, { boolean: true });
      case 'CREATE':
        if (!datanode) return redirect();
        if (this.files.has(path) && url.searchParams.get('overwrite') !== 'true') return remote(403, 'FileAlreadyExistsException', `${path} already exists`);
        this.mkdirs(parent);
        this.files.set(path, body);
        response.writeHead(201, { location: `hdfs://fake${path}` });
        response.end();
        return;
      case 'APPEND': {
        if (!datanode) return this.files.has(path) ? redirect() : remote(404, 'FileNotFoundException', `File does not exist: ${path}`);
        const existing = this.files.get(path);
        if (existing === undefined) return remote(404, 'FileNotFoundException', `File does not exist: ${path}`);
        if (this.breakNextAppendAfter !== undefined) {
          this.files.set(path, Buffer.concat([existing, body.subarray(0, this.breakNextAppendAfter)]));
          this.breakNextAppendAfter = undefined;
          response.socket?.destroy();
          return;
        }
        this.files.set(path, Buffer.concat([existing, body]));
        response.writeHead(200);
        response.end();
        return;
      }
      case 'OPEN': {
        if (!datanode) return this.files.has(path) ? redirect() : remote(404, 'FileNotFoundException', `File does not exist: ${path}`);
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.end(this.files.get(path) ?? Buffer.alloc(0));
        return;
      }
      case 'RENAME': {
        const destination = url.searchParams.get('destination') ?? '';
        const data = this.files.get(path);
        if (data === undefined || this.files.has(destination)) return json(200, { boolean: false });
        this.files.delete(path);
        this.mkdirs(destination.slice(0, destination.lastIndexOf('/')) || '/');
        this.files.set(destination, data);
        return json(200, { boolean: true });
      }
      case 'TRUNCATE': {
        const data = this.files.get(path);
        if (data === undefined) return remote(404, 'FileNotFoundException', `File does not exist: ${path}`);
        this.files.set(path, data.subarray(0, Number(url.searchParams.get('newlength'))));
        return json(200, { boolean: true });
      }
      case 'DELETE':
        return json(200, { boolean: this.files.delete(path) });
      default:
        return remote(400, 'IllegalArgumentException', `unsupported op ${op}`);
    }
  }

  private mkdirs(path: string): void {
    let current = '';
    for (const segment of path.split('/').filter((part) => part !== '')) {
      current += `/${segment}`;
      this.dirs.add(current);
    }
  }
}
