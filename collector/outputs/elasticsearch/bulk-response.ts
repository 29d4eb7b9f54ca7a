/**
 * The retry decision for `_bulk` responses, pure so it is tested with
 * fixtures. Elasticsearch answers 200 with one entry per action, in request
 * order; each item is classified on its own, so only the items that failed
 * retriably are sent again and the rest are done.
 */

export type ItemVerdict =
  /** Indexed now (2xx) or already (409: a previous attempt or a replay created it). */
  | { readonly kind: 'done'; readonly created: boolean }
  /** Try this item again later: overload, a node failing, or a block only an operator can lift. */
  | { readonly kind: 'retry'; readonly reason: string; readonly blocked: boolean }
  /** The document itself is refused (mapping, parsing): retrying cannot help, it goes to the dead-letter topic. */
  | { readonly kind: 'reject'; readonly reason: string };

interface BulkError {
  type?: unknown;
  reason?: unknown;
  caused_by?: { type?: unknown; reason?: unknown };
}

/** Error types retried whatever status they come with (older versions sent some with 503 or 500). */
const RETRIABLE_TYPES = new Set(['es_rejected_execution_exception', 'circuit_breaking_exception', 'unavailable_shards_exception', 'cluster_block_exception']);

/** `status type: reason (caused by type: reason)`: what the dead-letter topic and logs say. */
export function describeError(status: number, error: BulkError | undefined): string {
  if (!error) return `HTTP ${status}`;
  let text = `${status} ${asText(error.type) || 'error'}: ${asText(error.reason)}`;
  const cause = error.caused_by;
  if (cause && (cause.type !== undefined || cause.reason !== undefined)) text += ` (caused by ${asText(cause.type)}: ${asText(cause.reason)})`;
  return text;
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * One item's fate:
 * - 2xx: done; 409: done (the document exists with this `_id`);
 * - 429, 408, 5xx and rejected-execution types: retried;
 * - 401, 403, 404: retried and reported as blocked, because the cure is an
 *   operator's (a permission, a read-only block from a full disk, an index
 *   that may not be auto-created), and dead-lettering everything meanwhile
 *   would turn a misconfiguration into a replay job;
 * - any other 4xx (mapping and parsing errors, too many fields): rejected.
 */
export function classifyItem(status: number, error: BulkError | undefined): ItemVerdict {
  if (status >= 200 && status < 300) return { kind: 'done', created: true };
  if (status === 409) return { kind: 'done', created: false };
  const type = typeof error?.type === 'string' ? error.type : '';
  const reason = describeError(status, error);
  if (status === 401 || status === 403 || status === 404) return { kind: 'retry', reason, blocked: true };
  if (RETRIABLE_TYPES.has(type) || status === 429 || status === 408 || status >= 500 || status < 400) return { kind: 'retry', reason, blocked: false };
  return { kind: 'reject', reason };
}

/**
 * Reads a 2xx `_bulk` response. Returns undefined when it cannot be matched
 * to the request (not JSON, or a different number of items): the caller
 * then retries every item, which `create` makes safe.
 */
export function parseBulkResponse(body: string, expectedItems: number): ItemVerdict[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { errors, items } = parsed as { errors?: unknown; items?: unknown };
  // With filter_path, an error-free response may carry no items at all.
  if (errors === false && (items === undefined || (Array.isArray(items) && items.length === expectedItems))) {
    return Array.from({ length: expectedItems }, () => ({ kind: 'done', created: true }) as const);
  }
  if (!Array.isArray(items) || items.length !== expectedItems) return undefined;
  const verdicts: ItemVerdict[] = [];
  for (const entry of items as unknown[]) {
    // Each entry is `{ "<action>": { status, error? } }`.
    const result: unknown = entry !== null && typeof entry === 'object' ? Object.values(entry as Record<string, unknown>)[0] : undefined;
    if (result === null || typeof result !== 'object') return undefined;
    const { status, error } = result as { status?: unknown; error?: BulkError };
    if (typeof status !== 'number') return undefined;
    verdicts.push(classifyItem(status, error));
  }
  return verdicts;
}
