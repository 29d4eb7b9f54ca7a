import { describe, expect, it } from 'vitest';
import { expectPrototypesUntouched } from '../../../shared/test-support/boundary-contract.js';
import { ParserConfigError } from './field-mapping.js';
import { createJsonParser, JSON_MAX_NESTING } from './json.js';
import type { ParsedFields, ParseResult } from './types.js';

function fieldsOf(result: ParseResult): ParsedFields {
  if (!result.ok) throw new Error(`expected ok, got error: ${result.error}`);
  return result.fields;
}

describe('createJsonParser', () => {
  it('maps the common conventions and keeps the rest as attributes', () => {
    const parser = createJsonParser();
    const fields = fieldsOf(
      parser.parse('{"time":"2024-05-01T12:00:00.123Z","level":"warn","msg":"disk almost full","host":"db1","pct":93.5,"ok":false,"gone":null}'),
    );
    expect(fields).toEqual({
      timestamp: '2024-05-01T12:00:00.123Z',
      severityText: 'warn',
      severityNumber: 13,
      body: 'disk almost full',
      attributes: { host: 'db1', pct: 93.5, ok: false },
    });
  });

  it('flattens nested objects into dotted keys and keeps arrays as JSON text', () => {
    const fields = fieldsOf(createJsonParser().parse('{"http":{"request":{"method":"GET"},"response":{"status_code":200}},"tags":["a","b"],"empty":{}}'));
    expect(fields.attributes).toEqual({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      tags: '["a","b"]',
      empty: '{}',
    });
  });

  it('stops flattening at max_depth and stores deeper objects as JSON text', () => {
    const fields = fieldsOf(createJsonParser({ max_depth: 2 }).parse('{"a":{"b":{"c":{"d":1}}}}'));
    expect(fields.attributes).toEqual({ 'a.b': '{"c":{"d":1}}' });
  });

  it('with flatten off keeps top-level keys, stringifies objects, and still finds nested mapped fields (ECS)', () => {
    const parser = createJsonParser({ flatten: false });
    const fields = fieldsOf(
      parser.parse(
        '{"@timestamp":"2024-05-01T12:00:00Z","log":{"level":"error","logger":"app"},"message":"boom","trace":{"id":"4BF92F3577B34DA6A3CE929D0E0E4736"},"user":{"id":7}}',
      ),
    );
    expect(fields.timestamp).toBe('2024-05-01T12:00:00.000Z');
    expect(fields.severityText).toBe('error');
    expect(fields.body).toBe('boom');
    expect(fields.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    // The extracted leaves are removed; parents left empty disappear.
    expect(fields.attributes).toEqual({ log: '{"logger":"app"}', user: '{"id":7}' });
  });

  it.each([
    ['seconds', 1714564800, '2024-05-01T12:00:00.000Z'],
    ['fractional seconds', 1714564800.5, '2024-05-01T12:00:00.500Z'],
    ['milliseconds', 1714564800123, '2024-05-01T12:00:00.123Z'],
    ['microseconds', 1714564800123456, '2024-05-01T12:00:00.123456Z'],
  ])('reads a numeric epoch in %s by magnitude', (_unit, ts, expected) => {
    expect(fieldsOf(createJsonParser().parse(JSON.stringify({ ts, msg: 'x' }))).timestamp).toBe(expected);
  });

  it('keeps all nanosecond digits when the epoch is a string', () => {
    expect(fieldsOf(createJsonParser().parse('{"ts":"1714564800123456789"}')).timestamp).toBe('2024-05-01T12:00:00.123456789Z');
  });

  it('reads pino numeric levels', () => {
    const fields = fieldsOf(createJsonParser().parse('{"level":30,"time":1714564800123,"pid":42,"hostname":"h","msg":"hello"}'));
    expect(fields).toMatchObject({ severityText: '30', severityNumber: 9, body: 'hello', attributes: { pid: 42, hostname: 'h' } });
  });

  it('validates and lowercases trace and span ids', () => {
    const fields = fieldsOf(createJsonParser().parse('{"traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"B7AD6B7169203331"}'));
    expect(fields.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(fields.spanId).toBe('b7ad6b7169203331');
    expect(fields.attributes).toEqual({});
  });

  it('leaves malformed or all-zero trace ids as attributes', () => {
    const fields = fieldsOf(createJsonParser().parse('{"trace_id":"abc","span_id":"0000000000000000","span.id":"zzzzzzzzzzzzzzzz"}'));
    expect(fields.traceId).toBeUndefined();
    expect(fields.spanId).toBeUndefined();
    expect(fields.attributes).toEqual({ trace_id: 'abc', span_id: '0000000000000000', 'span.id': 'zzzzzzzzzzzzzzzz' });
  });

  it('keeps an unparseable timestamp or unknown level as an attribute and tries the next candidate', () => {
    const fields = fieldsOf(createJsonParser().parse('{"time":"soon","ts":"2024-05-01 12:00:00","level":"chatty"}'));
    expect(fields.timestamp).toBe('2024-05-01T12:00:00.000Z');
    expect(fields.severityNumber).toBeUndefined();
    expect(fields.attributes).toEqual({ time: 'soon', level: 'chatty' });
  });

  it('honours field overrides, timestamp_format and timezone', () => {
    const parser = createJsonParser({
      timestamp_field: 'when',
      timestamp_format: 'dd.MM.yyyy HH:mm:ss',
      timezone: '+02:00',
      severity_field: 'prio',
      message_field: 'text',
    });
    const fields = fieldsOf(parser.parse('{"when":"01.05.2024 14:00:00","prio":"E","text":"t","msg":"stays","time":"2020-01-01T00:00:00Z"}'));
    expect(fields).toEqual({
      timestamp: '2024-05-01T12:00:00.000Z',
      severityText: 'E',
      severityNumber: 17,
      body: 't',
      attributes: { msg: 'stays', time: '2020-01-01T00:00:00Z' },
    });
  });

  it('strips the newline Docker json-file keeps in `log`', () => {
    const fields = fieldsOf(createJsonParser().parse('{"log":"GET / 200\\n","stream":"stdout","time":"2024-05-01T12:00:00.000000001Z"}'));
    expect(fields.body).toBe('GET / 200');
    expect(fields.timestamp).toBe('2024-05-01T12:00:00.000000001Z');
    expect(fields.attributes).toEqual({ stream: 'stdout' });
  });

  it('13.1: {"__proto__":{"polluted":1}} keeps its data under a safe key and leaves Object.prototype alone', () => {
    const fields = expectPrototypesUntouched(() => fieldsOf(createJsonParser().parse('{"__proto__":{"polluted":1},"a":1}')));
    expect(Object.keys(fields.attributes).sort()).toEqual(['___proto__.polluted', 'a']);
    expect(fields.attributes['___proto__.polluted']).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('13.1: a dotted key with a __proto__ segment, flat or nested, never becomes a prototype path', () => {
    for (const line of ['{"x.__proto__.time":"2099-01-01T00:00:00Z"}', '{"x":{"__proto__":{"time":"2099-01-01T00:00:00Z"}}}']) {
      const fields = expectPrototypesUntouched(() => fieldsOf(createJsonParser().parse(line)));
      expect(fields.attributes).toEqual({ 'x.___proto__.time': '2099-01-01T00:00:00Z' });
      expect(fields.timestamp).toBeUndefined();
    }
    const unflattened = fieldsOf(createJsonParser({ flatten: false }).parse('{"__proto__":{"time":1},"constructor":"c"}'));
    expect(unflattened.attributes).toEqual({ ___proto__: '{"time":1}', _constructor: 'c' });
    expect(Object.getPrototypeOf(unflattened.attributes)).toBeNull();
    expect(({} as Record<string, unknown>).time).toBeUndefined();
  });

  it.each(['[1,2]', '"text"', '42', 'null', 'plain text', '{"unterminated": ', ''])('returns an error for %j', (line) => {
    const result = createJsonParser().parse(line);
    expect(result.ok).toBe(false);
  });

  it('rejects a bad max_depth in the factory', () => {
    expect(() => createJsonParser({ max_depth: 0 })).toThrow(ParserConfigError);
  });

  it('refuses a line nested deeper than JSON_MAX_NESTING before JSON.parse recurses into it, and keeps brackets in strings out of the count', () => {
    const parser = createJsonParser();
    expect(parser.parse(`{"a":${'['.repeat(600)}${']'.repeat(600)}}`)).toEqual({
      ok: false,
      error: `not parsed: JSON nested deeper than ${JSON_MAX_NESTING} levels`,
    });
    expect(parser.parse('['.repeat(100_000))).toEqual({ ok: false, error: `not parsed: JSON nested deeper than ${JSON_MAX_NESTING} levels` });
    const inString = `{"msg":"${'['.repeat(600)}\\"${'{'.repeat(600)}"}`;
    expect(parser.parse(inString)).toMatchObject({ ok: true });
  });
});
