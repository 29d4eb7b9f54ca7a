import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { FakeJsonServer, type FakeReply, type RecordedHttpRequest, type Responder as FakeResponder } from '../../../shared/test-support/fake-json-server.js';

export type { FakeReply };

/**
 * A fake Elasticsearch for unit tests: a real HTTP server on 127.0.0.1 that
 * records every request (bodies decompressed) and answers like the real one
 * by default: `GET /` with version info, template PUTs acknowledged, and
 * `_bulk` creates into an in-memory store (409 for an `_id` it already has).
 * A test replaces `respond` to script status codes, item errors, delays and
 * connection resets.
 */

export interface RecordedRequest extends RecordedHttpRequest {
  /** The body's size as sent (compressed or not); `body` is decoded. */
  readonly wireBytes: number;
}

export interface BulkAction {
  readonly op: string;
  readonly index: string;
  readonly id: string;
  readonly document: Record<string, unknown>;
}

export type Responder = FakeResponder<RecordedRequest, FakeElasticsearch>;

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

export class FakeElasticsearch extends FakeJsonServer<RecordedRequest> {
  /** Documents created through `_bulk`, by `_index` and `_id`. */
  readonly store = new Map<string, Record<string, unknown>>();

  private constructor() {
    super();
  }

  static async start(options: { tls?: { key: Buffer; cert: Buffer } } = {}): Promise<FakeElasticsearch> {
    const fake = new FakeElasticsearch();
    await fake.listen(options.tls);
    return fake;
  }

  /** The `_bulk` requests received, parsed. */
  bulks(): BulkAction[][] {
    return this.requests.filter((request) => request.path === '/_bulk').map((request) => parseBulkBody(request.body));
  }

  protected record(request: IncomingMessage, raw: Buffer, url: URL): RecordedRequest {
    return {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      wireBytes: raw.length,
      body: (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
    };
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
}
