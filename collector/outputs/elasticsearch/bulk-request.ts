/**
 * `_bulk` request bodies: NDJSON, an action line then the document, each
 * ending in "\n" (the body too, as `_bulk` requires). Every document is a
 * `create` with `_id` = the record's event id: a replay after a crash finds
 * the earlier copy (409, counted as success) instead of indexing it twice,
 * and data streams accept nothing but `create`.
 */

/** One record on its way to Elasticsearch; re-sent as is when it must be retried. */
export interface BulkItem {
  /** Position in the records of the `write` call, as `rejected` reports it. */
  readonly index: number;
  /** Action line and document, both newline-terminated. */
  readonly lines: string;
  readonly bytes: number;
  /** Sends so far (whole-request failures included), for `retry.max_attempts`. */
  attempts: number;
  /** Why the last send failed, for the dead-letter reason when attempts run out. */
  lastError?: string;
}

export function bulkItem(index: number, target: string, id: string, document: string): BulkItem {
  const lines = `${JSON.stringify({ create: { _index: target, _id: id } })}\n${document}\n`;
  return { index, lines, bytes: Buffer.byteLength(lines), attempts: 0 };
}

/**
 * Splits items into requests of at most `maxBytes` (uncompressed) and
 * `maxEvents` items, in order. An item larger than `maxBytes` travels alone:
 * the server, not this splitter, decides whether it is too large.
 */
export function planRequests(items: readonly BulkItem[], maxBytes: number, maxEvents: number): BulkItem[][] {
  const requests: BulkItem[][] = [];
  let current: BulkItem[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (bytes + item.bytes > maxBytes || current.length >= maxEvents)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

export function bulkBody(items: readonly BulkItem[]): string {
  let body = '';
  for (const item of items) body += item.lines;
  return body;
}
