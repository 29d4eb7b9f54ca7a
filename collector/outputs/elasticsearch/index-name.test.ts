import { describe, expect, it } from 'vitest';
import { truncateUtf8 } from '../../../shared/utf8.js';
import { logRecord, metricRecord } from '../../../test/helpers/records.js';
import {
  parseNameTemplate,
  renderIndexName,
  renderStreamPart,
  sanitizeIndexName,
  sanitizeStreamPart,
  templatePattern,
  type NameTemplate,
} from './index-name.js';

function template(source: string, dates = true): NameTemplate {
  const parsed = parseNameTemplate(source, { dates });
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

describe('name templates', () => {
  it('parses text, placeholders and dates', () => {
    expect(template('logs-{resource.service.name}-%Y.%m.%d%%').parts).toEqual([
      { kind: 'text', text: 'logs-' },
      { kind: 'field', source: 'resource', key: 'service.name' },
      { kind: 'text', text: '-' },
      { kind: 'time', tokens: [{ unit: 'yyyy' }] },
      { kind: 'text', text: '.' },
      { kind: 'time', tokens: [{ unit: 'MM' }] },
      { kind: 'text', text: '.' },
      { kind: 'time', tokens: [{ unit: 'dd' }] },
      { kind: 'text', text: '%' },
    ]);
    expect(template('logs-{yyyy.MM.dd}').parts).toEqual([
      { kind: 'text', text: 'logs-' },
      { kind: 'time', tokens: [{ unit: 'yyyy' }, { text: '.' }, { unit: 'MM' }, { text: '.' }, { unit: 'dd' }] },
    ]);
    expect(template('generic').constant).toBe(true);
    // Without dates (datasets), % is plain text, which sanitizing keeps.
    expect(template('a%d', false).parts).toEqual([{ kind: 'text', text: 'a%d' }]);
  });

  it('explains what is wrong', () => {
    expect(parseNameTemplate('{resource.x', { dates: true })).toMatch(/unclosed/);
    expect(parseNameTemplate('a}', { dates: true })).toMatch(/unmatched/);
    expect(parseNameTemplate('{host}', { dates: true })).toMatch(/placeholders are .* or a time such as \{yyyy.MM.dd\}/);
    // Datasets and namespaces have no time: a time placeholder there is an error, not a field.
    expect(parseNameTemplate('{yyyy}', { dates: false })).toBe('placeholders are {resource.<key>} or {attributes.<key>}, got "{yyyy}"');
    expect(parseNameTemplate('x-%j', { dates: true })).toMatch(/unknown date field "%j"/);
    expect(parseNameTemplate('Logs', { dates: true })).toMatch(/lowercase/);
    expect(parseNameTemplate('a b', { dates: true })).toMatch(/" " is not allowed/);
    expect(parseNameTemplate('', { dates: true })).toMatch(/empty/);
  });

  it('turns a template into the index pattern its index template matches', () => {
    expect(templatePattern(template('tributary-logs-%Y.%m.%d'))).toBe('tributary-logs-*.*.*');
    expect(templatePattern(template('{resource.service.name}-%Y%m'))).toBe('*-*');
    expect(templatePattern(template('generic'))).toBe('generic');
    expect(templatePattern(template('tributary-logs-{yyyy.MM.dd}'))).toBe('tributary-logs-*.*.*');
    expect(templatePattern(template('{resource.service.name}-{yyyyMM}'))).toBe('*-*');
  });
});

describe('data stream parts', () => {
  it('render from the record, with the fallback for a missing key', () => {
    const record = logRecord({ resource: { 'service.name': 'checkout' }, attributes: { team: 'payments' } });
    expect(renderStreamPart(template('{resource.service.name}', false), record, 'generic')).toBe('checkout');
    expect(renderStreamPart(template('app.{attributes.team}', false), record, 'generic')).toBe('app.payments');
    expect(renderStreamPart(template('{resource.missing}', false), record, 'generic')).toBe('generic');
    expect(renderStreamPart(template('{attributes.missing}', false), metricRecord(), 'default')).toBe('default');
  });

  it("13.1: a placeholder naming prototype machinery reads only the record's own keys", () => {
    const record = logRecord({ attributes: JSON.parse('{"__proto__":"own"}') as Record<string, string> });
    expect(renderStreamPart(template('{resource.constructor}', false), record, 'generic')).toBe('generic');
    expect(renderStreamPart(template('{attributes.toString}', false), record, 'generic')).toBe('generic');
    expect(renderStreamPart(template('{attributes.__proto__}', false), record, 'generic')).toBe('own');
    expect(renderStreamPart(template('{attributes.__proto__}', false), logRecord(), 'generic')).toBe('generic');
  });

  it('are sanitized as the reroute processor does: lowercase, \\/*?"<>| ,#:- become _, at most 100 bytes', () => {
    expect(sanitizeStreamPart('My Service/API#1:v2-beta,"x"<y>|z*?\\')).toBe('my_service_api_1_v2_beta__x__y__z___');
    expect(sanitizeStreamPart('é'.repeat(80))).toBe('é'.repeat(50));
    const record = logRecord({ resource: { 'service.name': '---' } });
    expect(renderStreamPart(template('{resource.service.name}', false), record, 'generic')).toBe('generic');
  });
});

describe('index names', () => {
  it('take the UTC date and hour of the record timestamp', () => {
    const at = (timestamp: string) => renderIndexName(template('tributary-logs-%Y.%m.%d-%H'), logRecord({ timestamp }));
    expect(at('2026-11-23T12:00:00.000Z')).toBe('tributary-logs-2026.11.23-12');
    expect(at('2026-11-24T01:30:00+02:00')).toBe('tributary-logs-2026.11.23-23');
    // An unreadable timestamp falls back to the observed one, never to "now" (a replay must land in the same index).
    expect(renderIndexName(template('x-%Y.%m.%d'), logRecord({ timestamp: 'garbage', observed_timestamp: '2025-01-02T03:04:05Z' }))).toBe('x-2025.01.02');
  });

  it('are the same in the {yyyy.MM.dd} syntax and the deprecated %Y.%m.%d one', () => {
    const pairs = [
      ['tributary-logs-{yyyy.MM.dd}', 'tributary-logs-%Y.%m.%d'],
      ['tributary-metrics-{yyyy.MM.dd}', 'tributary-metrics-%Y.%m.%d'],
      ['x-{yyyy}.{MM}-{dd}_{HH}', 'x-%Y.%m-%d_%H'],
      ['app-{resource.service.name}-{yyyyMMddHH}', 'app-{resource.service.name}-%Y%m%d%H'],
    ];
    const records = [
      logRecord({ timestamp: '2026-11-24T01:30:00+02:00', resource: { 'service.name': 'checkout' } }),
      logRecord({ timestamp: '2026-01-01T00:00:00.000Z' }),
      logRecord({ timestamp: 'garbage', observed_timestamp: '2025-01-02T03:04:05Z' }),
      metricRecord(),
    ];
    for (const [current, deprecated] of pairs) {
      const [a, b] = [template(current ?? ''), template(deprecated ?? '')];
      expect(templatePattern(a)).toBe(templatePattern(b));
      for (const record of records) expect(renderIndexName(a, record)).toBe(renderIndexName(b, record));
    }
    expect(renderIndexName(template('tributary-logs-{yyyy.MM.dd}'), records[0] ?? logRecord())).toBe('tributary-logs-2026.11.23');
    // Minutes exist only in the new syntax (as in HDFS paths).
    expect(renderIndexName(template('x-{yyyy.MM.dd-HH.mm}'), logRecord({ timestamp: '2026-11-23T12:34:56Z' }))).toBe('x-2026.11.23-12.34');
  });

  it('render placeholders sanitized, "unknown" for a missing key', () => {
    const record = logRecord({ resource: { 'service.name': 'Check Out' } });
    expect(renderIndexName(template('app-{resource.service.name}-%Y'), record)).toBe('app-check_out-2026');
    expect(renderIndexName(template('app-{attributes.nope}'), record)).toBe('app-unknown');
    expect(renderIndexName(template('{resource.service.name}'), logRecord({ resource: { 'service.name': '_-+.x' } }))).toBe('x');
  });

  it('never start with -, _, + or . and stay within 255 bytes', () => {
    expect(sanitizeIndexName('-_+.Hidden')).toBe('hidden');
    expect(Buffer.byteLength(sanitizeIndexName('a'.repeat(300)))).toBe(255);
    expect(truncateUtf8('aé', 2)).toBe('a');
  });
});
