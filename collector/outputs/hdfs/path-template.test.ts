import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../shared/record/log-record.js';
import { expectPrototypesUntouched } from '../../../shared/test-support/boundary-contract.js';
import { parsePathTemplate, renderDirectory, sanitizeSegmentValue, type PathTemplate } from './path-template.js';

function record(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    schema: 'tributary.log.v1',
    id: 'x',
    timestamp: '2026-11-23T09:05:00.000Z',
    observed_timestamp: '2026-11-23T09:06:00.000Z',
    severity_number: 9,
    body: '',
    attributes: {},
    resource: {},
    ...overrides,
  };
}

function parse(source: string): PathTemplate {
  const parsed = parsePathTemplate(source);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

describe('parsePathTemplate', () => {
  it('splits the literal base from the templated segments', () => {
    const template = parse('/logs/raw/{service.name}/dt={yyyy-MM-dd}/hr={HH}/');
    expect(template.base).toBe('/logs/raw');
    expect(template.segments).toHaveLength(3);
    expect(parse('/{service.name}').base).toBe('/');
    // A literal segment after a placeholder belongs to the templated part.
    expect(parse('/a/{x}/b').segments).toHaveLength(2);
  });

  it.each([
    ['logs/{x}', 'absolute'],
    ['/', 'directory below'],
    ['/a//b', 'empty path segment'],
    ['/a/../b', '"." and ".."'],
    ['/a/./b', '"." and ".."'],
    ['/_tmp/{x}', 'hidden'],
    ['/.staging/{x}', 'hidden'],
    ['/a/{x', 'unclosed'],
    ['/a/x}', 'unmatched'],
    ['/a/{HH:mm}', 'neither a field'],
    ['/a/{}', 'neither a field'],
    ['/a/b:c/{x}', '":" is not allowed'],
  ])('refuses %s', (source, message) => {
    expect(parsePathTemplate(source)).toContain(message);
  });
});

describe('renderDirectory', () => {
  it('renders fields (resource first, then attributes) and the UTC event time, Hive style', () => {
    const template = parse('/logs/{service.name}/{attributes.tenant}/dt={yyyy-MM-dd}/hr={HH}/m={mm}');
    const dir = renderDirectory(template, record({ resource: { 'service.name': 'api' }, attributes: { tenant: 'acme' } }), 'unknown');
    expect(dir).toBe('/logs/api/acme/dt=2026-11-23/hr=09/m=05');
    expect(renderDirectory(parse('/l/{k}'), record({ attributes: { k: 7 } }), 'unknown')).toBe('/l/7');
  });

  it('uses the observed time when the timestamp is unusable, and renders {record.type}', () => {
    const template = parse('/x/{record.type}/{yyyyMMdd}{HH}');
    expect(renderDirectory(template, record({ timestamp: 'garbage' }), 'unknown')).toBe('/x/logs/2026112309');
    expect(renderDirectory(template, record({ timestamp: '2026-11-23T23:30:00+02:00' }), 'unknown')).toBe('/x/logs/2026112321');
  });

  it('renders a missing key as the missing value', () => {
    expect(renderDirectory(parse('/l/service={service.name}'), record(), 'unknown')).toBe('/l/service=unknown');
  });

  it('never leaves the base path nor hides a directory', () => {
    const template = parse('/base/{service.name}');
    for (const hostile of ['..', '.', '../..', '/etc', 'a/../../..', '_x', '.x', '..%2F..', '\u0000', 'a\\b']) {
      const dir = renderDirectory(template, record({ resource: { 'service.name': hostile } }), 'unknown');
      expect(dir.startsWith('/base/')).toBe(true);
      const segment = dir.slice('/base/'.length);
      expect(segment).not.toContain('/');
      expect(segment).not.toMatch(/^[._]/);
      expect(['.', '..']).not.toContain(segment);
    }
  });
});

describe('sanitizeSegmentValue', () => {
  it('escapes as Hive does and keeps readable values as they are', () => {
    expect(sanitizeSegmentValue('api-v1.2_x', 'unknown')).toBe('api-v1.2_x');
    expect(sanitizeSegmentValue('a/b:c=d%e', 'unknown')).toBe('a%2Fb%3Ac%3Dd%25e');
    expect(sanitizeSegmentValue('..', 'unknown')).toBe('%2E%2E');
    expect(sanitizeSegmentValue('', 'unknown')).toBe('unknown');
  });

  it('cuts long values to 200 bytes without splitting a character or an escape', () => {
    expect(Buffer.byteLength(sanitizeSegmentValue('é'.repeat(300), 'u'))).toBe(200);
    const cut = sanitizeSegmentValue(`${'a'.repeat(199)}/`, 'u');
    expect(cut).toBe('a'.repeat(199));
  });
});

describe('13.1: keys that name prototype machinery', () => {
  it("13.1: placeholders read own keys only; a record key x.__proto__.time leaves the next record's directory alone", () => {
    const template = parse('/logs/{constructor}/{attributes.__proto__}/{x.__proto__.time}/{toString}/dt={yyyy-MM-dd}');
    const hostile = record({ attributes: JSON.parse('{"x.__proto__.time":"2099-01-01T00:00:00Z","__proto__":"p"}') as Record<string, string> });
    expect(expectPrototypesUntouched(() => renderDirectory(template, hostile, 'unknown'))).toBe(
      '/logs/unknown/p/2099-01-01T00%3A00%3A00Z/unknown/dt=2026-11-23',
    );
    expect(({} as Record<string, unknown>).time).toBeUndefined();
    expect(renderDirectory(template, record({ timestamp: '2026-11-24T01:00:00Z' }), 'unknown')).toBe('/logs/unknown/unknown/unknown/unknown/dt=2026-11-24');
  });
});
