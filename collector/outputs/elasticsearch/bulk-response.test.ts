import { describe, expect, it } from 'vitest';
import { bulkBody, bulkItem, planRequests } from './bulk-request.js';
import { classifyItem, parseBulkResponse } from './bulk-response.js';

describe('bulk requests', () => {
  it('are create actions with _id, each line and the body ending in a newline', () => {
    const item = bulkItem(0, 'logs-generic-default', 'abc', '{"message":"hi"}');
    expect(item.lines).toBe('{"create":{"_index":"logs-generic-default","_id":"abc"}}\n{"message":"hi"}\n');
    expect(item.bytes).toBe(Buffer.byteLength(item.lines));
    expect(bulkBody([item, item]).endsWith('}\n')).toBe(true);
  });

  it('are planned by bytes and count, an oversized item alone', () => {
    const items = [10, 10, 10, 50, 10, 10].map((size, index) => ({ index, lines: 'x'.repeat(size), bytes: size, attempts: 0 }));
    expect(planRequests(items, 30, 100).map((request) => request.map((item) => item.index))).toEqual([[0, 1, 2], [3], [4, 5]]);
    expect(planRequests(items, 1000, 4).map((request) => request.map((item) => item.index))).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
    expect(planRequests([], 10, 10)).toEqual([]);
  });
});

describe('bulk item classification', () => {
  it('counts 2xx and 409 as done', () => {
    expect(classifyItem(201, undefined)).toEqual({ kind: 'done', created: true });
    expect(classifyItem(409, { type: 'version_conflict_engine_exception', reason: 'exists' })).toEqual({ kind: 'done', created: false });
  });

  it('retries overload and server errors, and blocks (retries loudly) on 401/403/404', () => {
    expect(classifyItem(429, { type: 'es_rejected_execution_exception', reason: 'queue full' })).toMatchObject({ kind: 'retry', blocked: false });
    expect(classifyItem(503, { type: 'unavailable_shards_exception', reason: 'primary shard is not active' })).toMatchObject({ kind: 'retry', blocked: false });
    expect(classifyItem(500, { type: 'es_rejected_execution_exception' })).toMatchObject({ kind: 'retry' });
    expect(
      classifyItem(403, { type: 'cluster_block_exception', reason: 'index [x] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)]' }),
    ).toMatchObject({
      kind: 'retry',
      blocked: true,
    });
    expect(classifyItem(404, { type: 'index_not_found_exception', reason: 'no such index [x]' })).toMatchObject({ kind: 'retry', blocked: true });
  });

  it('rejects mapping and parsing errors with type, reason and cause', () => {
    const verdict = classifyItem(400, {
      type: 'mapper_parsing_exception',
      reason: "failed to parse field [n] of type [double] in document with id 'x'",
      caused_by: { type: 'number_format_exception', reason: 'For input string: "abc"' },
    });
    expect(verdict).toEqual({
      kind: 'reject',
      reason:
        '400 mapper_parsing_exception: failed to parse field [n] of type [double] in document with id \'x\' (caused by number_format_exception: For input string: "abc")',
    });
    expect(classifyItem(400, { type: 'illegal_argument_exception', reason: 'Limit of total fields [2000] has been exceeded' })).toMatchObject({
      kind: 'reject',
    });
    expect(classifyItem(400, { type: 'document_parsing_exception', reason: 'x' })).toMatchObject({ kind: 'reject' });
  });
});

describe('bulk responses', () => {
  it('without errors are all done, with or without items', () => {
    expect(parseBulkResponse('{"errors":false}', 2)).toEqual([
      { kind: 'done', created: true },
      { kind: 'done', created: true },
    ]);
    expect(parseBulkResponse('{"errors":false,"items":[{"create":{"status":201}}]}', 1)).toEqual([{ kind: 'done', created: true }]);
  });

  it('with errors are classified item by item, in order', () => {
    const body = JSON.stringify({
      errors: true,
      items: [
        { create: { status: 201 } },
        { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'busy' } } },
        { create: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad' } } },
        { create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } },
      ],
    });
    expect(parseBulkResponse(body, 4)?.map((verdict) => verdict.kind)).toEqual(['done', 'retry', 'reject', 'done']);
  });

  it('that cannot be matched to the request are unusable (the caller retries everything)', () => {
    expect(parseBulkResponse('<html>proxy error</html>', 1)).toBeUndefined();
    expect(parseBulkResponse('{"errors":true,"items":[]}', 1)).toBeUndefined();
    expect(parseBulkResponse('{"errors":true,"items":[{"create":{}}]}', 1)).toBeUndefined();
    expect(parseBulkResponse('null', 1)).toBeUndefined();
  });
});
