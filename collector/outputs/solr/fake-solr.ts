import type { IncomingMessage } from 'node:http';
import { FakeJsonServer, type FakeReply, type RecordedHttpRequest, type Responder as FakeResponder } from '../../../shared/test-support/fake-json-server.js';

export type { FakeReply };

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

/** `path` is below `/solr`, e.g. `/tributary/update`. */
export type RecordedRequest = RecordedHttpRequest;

export type Responder = FakeResponder<RecordedRequest, FakeSolr>;

type Document = Record<string, unknown>;

export class FakeSolr extends FakeJsonServer<RecordedRequest> {
  /** Documents by core, then id. */
  readonly cores = new Map<string, Map<string, Document>>();
  readonly chains = new Set(['tolerant']);
  /** Documents refused whatever their fields, as a mapping conflict would refuse them. */
  readonly refusedIds = new Set<string>();

  private constructor() {
    super();
  }

  static async start(options: { cores?: string[]; tls?: { key: Buffer; cert: Buffer } } = {}): Promise<FakeSolr> {
    const fake = new FakeSolr();
    await fake.listen(options.tls, '/solr');
    for (const core of options.cores ?? ['tributary']) fake.cores.set(core, new Map());
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

  protected record(request: IncomingMessage, body: Buffer, url: URL): RecordedRequest {
    return {
      method: request.method ?? 'GET',
      path: url.pathname.replace(/^\/solr/, ''),
      query: url.searchParams,
      headers: request.headers,
      body: body.toString('utf8'),
    };
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
      const id = String(document.id);
      const refusal = this.refusedIds.has(id) ? `ERROR: [doc=${id}] Error adding field 'body'='…' msg=refused for this test` : refuse(document);
      if (refusal === undefined) {
        store.set(id, document);
        continue;
      }
      if (chain === null) return FakeSolr.error(400, refusal);
      errors.push({ type: 'ADD', id, message: refusal });
    }
    const header: Record<string, unknown> = { status: 0, QTime: 1 };
    if (chain !== null && errors.length > 0) Object.assign(header, { errors, maxErrors: -1 });
    return { body: { responseHeader: header } };
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
