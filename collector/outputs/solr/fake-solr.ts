import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A fake Solr for unit tests: a real HTTP server on 127.0.0.1 that records
 * every request and answers `POST /<core>/update` (a JSON array of documents)
 * the way Solr 9 does: documents go into an in-memory store by `id`
 * (overwriting); a document with a non-numeric value in a `*_l` field is
 * refused. With the `tolerant` chain (`update.chain=tolerant`) the refused
 * documents are listed in `responseHeader.errors` and the rest are stored;
 * without it the request stops at the first refused document with a 400
 * naming it (`ERROR: [doc=ID] …`), the ones before it stored. An unknown
 * chain is a 400. A test replaces `respond` to script other answers.
 */

export interface RecordedRequest {
  readonly method: string;
  /** e.g. `/tributary/update` */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface FakeReply {
  status?: number;
  /** JSON-encoded unless a string. */
  body?: unknown;
  delayMs?: number;
}

export type Responder = (request: RecordedRequest, fake: FakeSolr) => FakeReply | 'reset' | undefined | Promise<FakeReply | 'reset' | undefined>;

type Document = Record<string, unknown>;

export class FakeSolr {
  readonly requests: RecordedRequest[] = [];
  /** Documents by core, then id. */
  readonly cores = new Map<string, Map<string, Document>>();
  readonly chains = new Set(['tolerant']);
  respond: Responder = () => undefined;
  inFlight = 0;
  maxInFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(options: { cores?: string[]; tls?: { key: Buffer; cert: Buffer } } = {}): Promise<FakeSolr> {
    const holder: { fake?: FakeSolr } = {};
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      void holder.fake?.handle(request, response);
    };
    const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeSolr(server, `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/solr`);
    for (const core of options.cores ?? ['tributary']) fake.cores.set(core, new Map());
    holder.fake = fake;
    return fake;
  }

  /** The update requests received (empty start-up probes left out), parsed. */
  updates(): Document[][] {
    return this.requests
      .filter((request) => request.path.endsWith('/update') && request.body !== '[]')
      .map((request) => JSON.parse(request.body) as Document[]);
  }

  store(core = 'tributary'): Map<string, Document> {
    const store = this.cores.get(core);
    if (!store) throw new Error(`no core ${core}`);
    return store;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
      const url = new URL(request.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        path: url.pathname.replace(/^\/solr/, ''),
        query: url.searchParams,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
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
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(body);
    } finally {
      this.inFlight--;
    }
  }

  static error(status: number, msg: string): FakeReply {
    return { status, body: { responseHeader: { status, QTime: 0 }, error: { msg, code: status } } };
  }

  /** What a healthy Solr answers. */
  defaultReply(request: RecordedRequest): FakeReply {
    const match = /^\/([^/]+)\/update$/.exec(request.path);
    const store = match?.[1] === undefined ? undefined : this.cores.get(match[1]);
    if (request.method !== 'POST' || !store) return FakeSolr.error(404, `Not Found: ${request.path}`);
    const chain = request.query.get('update.chain');
    if (chain !== null && !this.chains.has(chain)) return FakeSolr.error(400, `unknown UpdateRequestProcessorChain: ${chain}`);
    const documents = JSON.parse(request.body) as Document[];
    const errors: Array<{ type: string; id: string; message: string }> = [];
    for (const document of documents) {
      const refusal = refuse(document);
      if (refusal === undefined) {
        store.set(String(document.id), document);
        continue;
      }
      if (chain === null) return FakeSolr.error(400, refusal);
      errors.push({ type: 'ADD', id: String(document.id), message: refusal });
    }
    const header: Record<string, unknown> = { status: 0, QTime: 1 };
    if (chain !== null && errors.length > 0) Object.assign(header, { errors, maxErrors: -1 });
    return { body: { responseHeader: header } };
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Solr's message for a value a long field cannot take, else undefined. */
function refuse(document: Document): string | undefined {
  for (const [field, value] of Object.entries(document)) {
    if (field.endsWith('_l') && typeof value !== 'number') {
      return `ERROR: [doc=${String(document.id)}] Error adding field '${field}'='${String(value)}' msg=For input string: "${String(value)}"`;
    }
  }
  return undefined;
}
