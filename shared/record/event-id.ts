import { createHash } from 'node:crypto';

/**
 * An event id derived only from where the event was read, so that a replay of
 * the same bytes produces the same id and idempotent sinks (Elasticsearch
 * `_id`, Solr `id`) deduplicate it. 128 bits of SHA-256, hex: collision-free in
 * practice for any realistic stream.
 */
export function eventId(...parts: ReadonlyArray<string | number>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(String(part));
    hash.update('\u0000');
  }
  return hash.digest('hex').slice(0, 32);
}
