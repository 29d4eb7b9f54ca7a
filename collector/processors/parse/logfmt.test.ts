import { describe, expect, it } from 'vitest';
import { expectPrototypesUntouched } from '../../../shared/test-support/boundary-contract.js';
import { createLogfmtParser } from './logfmt.js';
import type { ParsedFields, ParseResult } from './types.js';

function fieldsOf(result: ParseResult): ParsedFields {
  if (!result.ok) throw new Error(`expected ok, got error: ${result.error}`);
  return result.fields;
}

describe('createLogfmtParser', () => {
  it('parses pairs, quoted values, escapes and bare keys', () => {
    const line =
      'ts=2024-05-01T12:00:00.5Z level=info msg="said \\"hi\\" to\\tyou" user=ada cached path=/a?b=c empty= trace_id=4bf92f3577b34da6a3ce929d0e0e4736';
    expect(fieldsOf(createLogfmtParser().parse(line))).toEqual({
      timestamp: '2024-05-01T12:00:00.500Z',
      severityText: 'info',
      severityNumber: 9,
      body: 'said "hi" to\tyou',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      attributes: { user: 'ada', cached: true, path: '/a?b=c', empty: '' },
    });
  });

  it('keeps values as strings (logfmt is untyped) and dotted keys as they are', () => {
    const fields = fieldsOf(createLogfmtParser().parse('id=007 http.response.status_code=200 ratio=0.5'));
    expect(fields.attributes).toEqual({ id: '007', 'http.response.status_code': '200', ratio: '0.5' });
  });

  it('reads an epoch string timestamp and \\u escapes', () => {
    const fields = fieldsOf(createLogfmtParser().parse('time=1714564800 msg="caf\\u00e9" lvl=WARNING'));
    expect(fields).toMatchObject({ timestamp: '2024-05-01T12:00:00.000Z', body: 'café', severityText: 'WARNING', severityNumber: 13 });
  });

  it('honours overrides', () => {
    const parser = createLogfmtParser({
      timestamp_field: 't',
      timestamp_format: 'yyyy/MM/dd HH:mm:ss',
      timezone: 'Europe/Berlin',
      severity_field: 's',
      message_field: 'm',
    });
    const fields = fieldsOf(parser.parse('t="2024/01/15 13:00:00" s=debug m=hello msg=other'));
    expect(fields).toEqual({ timestamp: '2024-01-15T12:00:00.000Z', severityText: 'debug', severityNumber: 5, body: 'hello', attributes: { msg: 'other' } });
  });

  it('tolerates extra whitespace and a trailing CR', () => {
    expect(fieldsOf(createLogfmtParser().parse('  a=1\t b="x y"  \r')).attributes).toEqual({ a: '1', b: 'x y' });
  });

  it('keeps the last value of a repeated key', () => {
    expect(fieldsOf(createLogfmtParser().parse('a=1 a=2')).attributes).toEqual({ a: '2' });
  });

  it.each([
    ['unterminated quote', 'msg="never ends'],
    ['text glued to a closing quote', 'a="x"y'],
    ['quote inside an unquoted value', 'a=x"y'],
    ['missing key', '=value'],
    ['quoted key', '"a"=1'],
    ['bad escape', 'a="\\q"'],
    ['bad unicode escape', 'a="\\u12"'],
    ['prose with no pairs', 'this is just a sentence'],
    ['empty line', '   '],
  ])('rejects %s', (_what, line) => {
    const result = createLogfmtParser().parse(line);
    expect(result.ok).toBe(false);
  });

  it('names the column in errors', () => {
    expect(createLogfmtParser().parse('a=1 b="x"y')).toEqual({ ok: false, error: 'unexpected "y" after closing quote at column 10' });
  });

  it('13.1: constructor.prototype.x=1 and __proto__ keys stay data under safe keys', () => {
    const fields = expectPrototypesUntouched(() =>
      fieldsOf(createLogfmtParser().parse('constructor.prototype.x=1 __proto__.polluted=yes x.__proto__.time=2099-01-01T00:00:00Z')),
    );
    expect(fields.attributes).toEqual({ '_constructor._prototype.x': '1', '___proto__.polluted': 'yes', 'x.___proto__.time': '2099-01-01T00:00:00Z' });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
