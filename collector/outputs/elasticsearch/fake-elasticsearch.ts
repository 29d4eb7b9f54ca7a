import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A fake Elasticsearch for unit tests: a real HTTP server on 127.0.0.1 that
 * records every request (bodies decompressed) and answers like the real one
 * by default: `GET /` with version info, template PUTs acknowledged, and
 * `_bulk` creates into an in-memory store (409 for an `_id` it already has).
 * A test replaces `respond` to script status codes, item errors, delays and
 * connection resets.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** The body as sent (compressed or not) and decoded. */
  readonly wireBytes: number;
  readonly body: string;
}

export interface BulkAction {
  readonly op: string;
  readonly index: string;
  readonly id: string;
  readonly document: Record<string, unknown>;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** JSON-encoded unless a string. */
  body?: unknown;
  /** Wait this long before answering (a slow or hung server). */
  delayMs?: number;
}

/** A reply, `'reset'` to destroy the connection without answering, or undefined for the default behaviour. */
export type Responder = (request: RecordedRequest, fake: FakeElasticsearch) => FakeReply | 'reset' | undefined | Promise<FakeReply | 'reset' | undefined>;

/** Parses an NDJSON `_bulk` body into its actions. */
export function parseBulkBody(body: string): BulkAction[] {
  const lines = body.split('\n');
  if (lines.at(-1) !== '') throw new Error('a _bulk body ends with a newline');
  const actions: BulkAction[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const action = JSON.parse(lines[i] as string) as Record<string, { _index: string; _id: string }>;
    const [op, meta] = Object.entries(action)[0] as [string, { _index: string; _id: string }];
    actions.push({ op, index: meta._index, id: meta._id, document: JSON.parse(lines[i + 1] as string) as Record<string, unknown> });
  }
  return actions;
}

export class FakeElasticsearch {
  readonly requests: RecordedRequest[] = [];
  /** Documents created through `_bulk`, by `_index` and `_id`. */
  readonly store = new Map<string, Record<string, unknown>>();
  respond: Responder = () => undefined;
  inFlight = 0;
  maxInFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(options: { tls?: { key: Buffer; cert: Buffer } } = {}): Promise<FakeElasticsearch> {
    // The server needs the handler before the fake (which needs the server's port) exists.
    const holder: { fake?: FakeElasticsearch } = {};
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      void holder.fake?.handle(request, response);
    };
    const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeElasticsearch(server, `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`);
    holder.fake = fake;
    return fake;
  }

  /** The `_bulk` requests received, parsed. */
  bulks(): BulkAction[][] {
    return this.requests.filter((request) => request.path === '/_bulk').map((request) => parseBulkBody(request.body));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
      const raw = Buffer.concat(chunks);
      const url = new URL(request.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        wireBytes: raw.length,
        body: (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
      };
      this.requests.push(recorded);
      const scripted = await this.respond(recorded, this);
      if (scripted === 'reset') {
        request.socket.destroy();
        return;
      }
      const reply = scripted ?? this.defaultReply(recorded);
      if (reply.delayMs !== undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            resolve();
          }, reply.delayMs);
          this.timers.add(timer);
        });
      }
      if (response.destroyed) return;
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(body);
    } finally {
      this.inFlight--;
    }
  }

  /** What a healthy server answers. */
  defaultReply(request: RecordedRequest): FakeReply {
    if (request.method === 'GET' && request.path === '/') return { body: { version: { number: '2.19.1', distribution: 'opensearch' } } };
    if (request.method === 'PUT') return { body: { acknowledged: true } };
    if (request.path === '/_bulk') return { body: this.bulkReply(parseBulkBody(request.body)) };
    return { status: 404, body: { error: { type: 'resource_not_found_exception', reason: `no handler for ${request.path}` }, status: 404 } };
  }

  /** Creates the actions in the store; existing ids answer 409 as Elasticsearch does. */
  bulkReply(actions: readonly BulkAction[], override: (action: BulkAction, position: number) => Record<string, unknown> | undefined = () => undefined) {
    let errors = false;
    const items = actions.map((action, position) => {
      const scripted = override(action, position);
      if (scripted) {
        if (scripted.error !== undefined) errors = true;
        return { [action.op]: scripted };
      }
      const key = `${action.index}/${action.id}`;
      if (this.store.has(key)) {
        errors = true;
        return {
          [action.op]: {
            status: 409,
            error: { type: 'version_conflict_engine_exception', reason: `[${action.id}]: version conflict, document already exists` },
          },
        };
      }
      this.store.set(key, action.document);
      return { [action.op]: { status: 201 } };
    });
    return { errors, items };
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
