/**
 * What an answer of Solr's update handler means for the documents of the
 * request (pure, so every branch is tested with fixtures):
 *
 * - 2xx: every document is indexed, except those the tolerant chain
 *   (TolerantUpdateProcessorFactory) lists in `responseHeader.errors` by id.
 * - 400 naming a document (`ERROR: [doc=ID] …`), the way Solr without the
 *   tolerant chain fails a request at its first bad document: the documents
 *   before it are indexed, it and the ones after are not. Sending the others
 *   again is safe (same ids overwrite).
 * - 400 without a document, 413: the request as a whole is refused; split it.
 * - 400 `unknown UpdateRequestProcessorChain`: the chain is gone (a core
 *   reloaded with another config); send without it.
 * - 401/403/404 (credentials, privileges, no such collection): blocked,
 *   retried and logged at error; 408, 429, 5xx, anything else: retried.
 */

export type UpdateVerdict =
  | { readonly kind: 'done'; readonly failed: ReadonlyMap<string, string> }
  | { readonly kind: 'retry'; readonly reason: string; readonly blocked: boolean }
  | { readonly kind: 'bad_document'; readonly id: string; readonly reason: string }
  | { readonly kind: 'split'; readonly reason: string }
  | { readonly kind: 'no_chain'; readonly reason: string };

interface SolrResponseBody {
  responseHeader?: { status?: unknown; errors?: unknown };
  error?: { msg?: unknown; code?: unknown };
  /** Jetty's JSON error page (asked for by `accept: application/json`): how the security plugins' refusals come. */
  message?: unknown;
}

function parse(body: string): SolrResponseBody | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Solr's error message (`error.msg`), else the message of Jetty's error page, JSON or the title of the HTML
 * one (how Solr's authentication and authorization plugins answer: `Bad credentials`, `Unauthorized request,
 * Response code: 403`), else the start of the body (a proxy's page).
 */
export function solrErrorMessage(status: number, body: string): string {
  const parsed = parse(body);
  for (const message of [parsed?.error?.msg, parsed?.message]) {
    if (typeof message === 'string' && message !== '') return `${status} ${oneLine(message)}`;
  }
  const title = /<title>(?:Error \d+ )?([^<]+)<\/title>/i.exec(body)?.[1];
  if (title !== undefined && oneLine(title) !== '') return `${status} ${oneLine(title)}`;
  const text = oneLine(body).slice(0, 200);
  return text === '' ? `HTTP ${status}` : `HTTP ${status} ${text}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function classifyUpdateResponse(status: number, body: string): UpdateVerdict {
  if (status >= 200 && status < 300) {
    const parsed = parse(body);
    if (parsed?.responseHeader === undefined) return { kind: 'retry', reason: `HTTP ${status} without a Solr response header`, blocked: false };
    const failed = new Map<string, string>();
    const errors = parsed.responseHeader.errors;
    if (Array.isArray(errors)) {
      for (const error of errors as unknown[]) {
        if (error === null || typeof error !== 'object') continue;
        const { id, message, type } = error as { id?: unknown; message?: unknown; type?: unknown };
        if (typeof id !== 'string') continue;
        failed.set(id, `400 ${typeof type === 'string' ? `${type}: ` : ''}${typeof message === 'string' ? oneLine(message) : 'refused'}`);
      }
    }
    return { kind: 'done', failed };
  }
  const reason = solrErrorMessage(status, body);
  if (status === 401 || status === 403 || status === 404) return { kind: 'retry', reason, blocked: true };
  if (status === 413) return { kind: 'split', reason };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    if (/unknown UpdateRequestProcessorChain/.test(reason)) return { kind: 'no_chain', reason };
    const document = /\[doc=([^\]]*)\]/.exec(reason);
    if (document?.[1] !== undefined) return { kind: 'bad_document', id: document[1], reason };
    return { kind: 'split', reason };
  }
  return { kind: 'retry', reason, blocked: false };
}
