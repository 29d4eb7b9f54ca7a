import { describe, expect, it } from 'vitest';
import { ParserConfigError } from './field-mapping.js';
import { GROK_PATTERNS } from './grok-patterns.js';
import { compileRegexPattern, createRegexParser } from './regex.js';
import type { ParsedFields, ParseResult } from './types.js';

function fieldsOf(result: ParseResult): ParsedFields {
  if (!result.ok) throw new Error(`expected ok, got error: ${result.error}`);
  return result.fields;
}

/** One grok pattern, anchored, as a plain predicate. */
function grokMatches(name: string, text: string): boolean {
  return compileRegexPattern(`^%{${name}}$`).regex.test(text);
}

describe('createRegexParser', () => {
  it('parses an nginx combined line with grok, dotted names and conversions', () => {
    const parser = createRegexParser({
      pattern:
        '^%{IPORHOST:client.address} - %{USER:user.name} \\[%{HTTPDATE:timestamp}\\] "%{WORD:http.request.method} %{URIPATHPARAM:url.original} HTTP/%{NUMBER:network.protocol.version}" %{INT:http.response.status_code:int} %{INT:http.response.body.size:int} %{QS:http.referrer} %{QS:user_agent.original}$',
    });
    const line = '203.0.113.9 - alice [10/Oct/2023:13:55:36 -0700] "GET /api/items?id=7 HTTP/1.1" 200 512 "-" "curl/8.4.0"';
    expect(fieldsOf(parser.parse(line))).toEqual({
      timestamp: '2023-10-10T20:55:36.000Z',
      attributes: {
        'client.address': '203.0.113.9',
        'user.name': 'alice',
        'http.request.method': 'GET',
        'url.original': '/api/items?id=7',
        'network.protocol.version': '1.1',
        'http.response.status_code': 200,
        'http.response.body.size': 512,
        'http.referrer': '"-"',
        'user_agent.original': '"curl/8.4.0"',
      },
    });
  });

  it('accepts dotted names in raw named groups and maps level/message', () => {
    const parser = createRegexParser({ pattern: '^(?<ts>\\S+) \\[(?<log.level>\\w+)\\] (?<thread.name>[^:]+): (?<msg>.*)$' });
    const fields = fieldsOf(parser.parse('2024-05-01T12:00:00Z [ERROR] worker-1: failed to connect'));
    expect(fields).toEqual({
      timestamp: '2024-05-01T12:00:00.000Z',
      severityText: 'ERROR',
      severityNumber: 17,
      body: 'failed to connect',
      attributes: { 'thread.name': 'worker-1' },
    });
  });

  it('lets alternatives capture the same field; the participating one wins', () => {
    const parser = createRegexParser({ pattern: '^(?:%{IPV4:client.address}|\\[%{IPV6:client.address}\\]):%{POSINT:client.port:int}$' });
    expect(fieldsOf(parser.parse('[2001:db8::1]:8080')).attributes).toEqual({ 'client.address': '2001:db8::1', 'client.port': 8080 });
    expect(fieldsOf(parser.parse('10.0.0.1:80')).attributes).toEqual({ 'client.address': '10.0.0.1', 'client.port': 80 });
  });

  it('rewrites \\k<name> backreferences to dotted groups', () => {
    const parser = createRegexParser({ pattern: '^(?<q.char>["\'])(?<value>.*)\\k<q.char>$' });
    expect(fieldsOf(parser.parse('"abc"')).attributes).toEqual({ 'q.char': '"', value: 'abc' });
    expect(parser.parse('"abc\'').ok).toBe(false);
  });

  it('leaves lookbehinds, character classes and escaped %{ alone', () => {
    const parser = createRegexParser({ pattern: '^(?<=)(?<a>[(?<%{]+)%\\{x\\}$' });
    expect(fieldsOf(parser.parse('(?<%{%{x}')).attributes).toEqual({ a: '(?<%{' });
  });

  it('returns an error for a line that does not match, and never throws', () => {
    const parser = createRegexParser({ pattern: '^%{INT:n:int}$' });
    expect(parser.parse('abc')).toEqual({ ok: false, error: 'line does not match the pattern' });
  });

  it('keeps the text when :int cannot convert it', () => {
    expect(fieldsOf(createRegexParser({ pattern: '^%{NOTSPACE:n:int}$' }).parse('12a')).attributes).toEqual({ n: '12a' });
  });

  it('rejects an unknown grok pattern with the list of known ones', () => {
    expect(() => createRegexParser({ pattern: '%{NOPE:x}' })).toThrow(/unknown grok pattern %\{NOPE\}; known patterns: .*GREEDYDATA/);
  });

  it('rejects an invalid regex with the engine reason only', () => {
    let caught: unknown;
    try {
      createRegexParser({ pattern: '(?<a>%{WORD}' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ParserConfigError);
    expect((caught as ParserConfigError).key).toBe('pattern');
    expect((caught as ParserConfigError).message).toBe('invalid regular expression: Unterminated group');
  });

  it.each([
    ['malformed reference', '%{WORD'],
    ['bad field name', '%{WORD:a..b}'],
    ['bad conversion', '%{INT:n:bool}'],
    ['backreference to nothing', '\\k<x>'],
    ['unterminated group name', '(?<abc'],
  ])('rejects a %s', (_what, pattern) => {
    expect(() => createRegexParser({ pattern })).toThrow(ParserConfigError);
  });

  it('expands every library pattern to a valid regex without capture groups', () => {
    for (const name of GROK_PATTERNS.keys()) {
      const { regex } = compileRegexPattern(`%{${name}}`);
      // A pattern with its own capture groups would shift users' numbered backreferences.
      expect(new RegExp(`${regex.source}|`).exec('')?.length, name).toBe(1);
    }
  });

  it.each([
    ['IPV4', '192.168.0.255', true],
    ['IPV4', '256.1.1.1', false],
    ['IPV6', '::1', true],
    ['IPV6', '2001:db8:85a3::8a2e:370:7334', true],
    ['IPV6', '::ffff:192.0.2.128', true],
    ['IPV6', 'fe80::1%eth0', true],
    ['IPV6', '1:2:3:4:5:6:7:8', true],
    ['IPV6', '1:2:3:4:5:6:7:8:9', false],
    ['IPV6', '1::2::3', false],
    ['HOSTNAME', 'api-1.example.com', true],
    ['HOSTNAME', '-bad.example', false],
    ['LOGLEVEL', 'Warning', true],
    ['LOGLEVEL', 'WARN', true],
    ['LOGLEVEL', 'loud', false],
    ['TIMESTAMP_ISO8601', '2015-10-18 18:01:47,978', true],
    ['TIMESTAMP_ISO8601', '2024-05-01T12:00:00.123456+02:00', true],
    ['SYSLOGTIMESTAMP', 'Jun  4 15:16:01', true],
    ['HTTPDATE', '10/Oct/2000:13:55:36 -0700', true],
    ['QS', '"say \\"hi\\""', true],
    ['QS', "'single'", true],
    ['UUID', '123e4567-e89b-12d3-a456-426614174000', true],
    ['PATH', '/var/log/app.log', true],
    ['PATH', 'C:\\logs\\app.log', true],
    ['URIPATH', '/a/b%20c', true],
    ['URI', 'https://user@example.com:8443/x?y=1', true],
    ['NUMBER', '-3.25', true],
    ['INT', '+12', true],
    ['JAVACLASS', 'org.apache.Foo$Bar', true],
    ['MAC', '00:1a:2b:3c:4d:5e', true],
  ])('%s matches %j: %s', (name, text, expected) => {
    expect(grokMatches(name, text)).toBe(expected);
  });
});
