import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { closeLocal, listenLocal } from './ports.js';

/**
 * The HTTP side of the fake servers the sinks' unit tests run against
 * (fake Elasticsearch, fake Solr): a real server on 127.0.0.1 that records
 * every request, counts requests in flight, and answers with what a test
 * scripts in `respond` (a reply, a delay, or a reset connection) or else with
 * the fake's `defaultReply`, its imitation of the real server.
 */

/** A request as the fake saw it, body read in full. */
export interface RecordedHttpRequest {
  readonly method: string;
  /** Below the fake's base URL. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** JSON-encoded unless a string or a Buffer (sent as it is: a gzip body, say). */
  body?: unknown;
  /** Writes the body itself instead of `body` (an endless or trickling answer); headers are already sent. */
  stream?: (response: ServerResponse) => void;
  /** Wait this long before answering (a slow or hung server). */
  delayMs?: number;
}

/** A reply, `'reset'` to destroy the connection without answering, or undefined for the default behaviour. */
export type Responder<Request, Fake> = (request: Request, fake: Fake) => FakeReply | 'reset' | undefined | Promise<FakeReply | 'reset' | undefined>;

export abstract class FakeJsonServer<Request> {
  readonly requests: Request[] = [];
  respond: Responder<Request, this> = () => undefined;
  inFlight = 0;
  maxInFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | undefined;
  private address: string | undefined;

  /** The base URL clients are configured with. */
  get url(): string {
    if (this.address === undefined) throw new Error('the fake server is not listening');
    return this.address;
  }

  /** Listens on a free port of 127.0.0.1; `path` is appended to the base URL (Solr's `/solr`). */
  protected async listen(tls: { key: Buffer; cert: Buffer } | undefined, path = ''): Promise<void> {
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      void this.handle(request, response);
    };
    const server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
    const port = await listenLocal(server);
    this.server = server;
    this.address = `${tls ? 'https' : 'http'}://127.0.0.1:${port}${path}`;
  }

  /** What the fake records of a request, from its whole body. */
  protected abstract record(request: IncomingMessage, body: Buffer, url: URL): Request;

  /** What the imitated server answers when the test scripts nothing. */
  abstract defaultReply(request: Request): FakeReply;

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
      const recorded = this.record(request, Buffer.concat(chunks), new URL(request.url ?? '/', 'http://fake'));
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
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      if (reply.stream) {
        reply.stream(response);
        return;
      }
      const body = typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body ?? {});
      response.end(body);
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await closeLocal(this.server);
  }
}
