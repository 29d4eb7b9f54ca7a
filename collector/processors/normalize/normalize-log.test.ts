import { describe, expect, it } from 'vitest';
import { asRawLogEvent, normalizeLogEvent, resourceKey } from './normalize-log.js';

const raw = {
  id: '0123456789abcdef0123456789abcdef',
  observed_at: '2026-11-23T12:00:00.000Z',
  body: 'GET /healthz 200',
  host: 'web-1',
  agent_id: 'agent-7',
  source: { type: 'file', name: 'app', path: '/var/log/app/access.log', file_id: '2049:77', offset: 512 },
  labels: { 'service.name': 'shop' },
};

describe('normalizeLogEvent', () => {
  it('maps a raw event onto the standard record', () => {
    expect(normalizeLogEvent(asRawLogEvent(raw), { 'deployment.environment': 'prod' })).toEqual({
      schema: 'tributary.log.v1',
      id: raw.id,
      timestamp: raw.observed_at,
      observed_timestamp: raw.observed_at,
      severity_number: 0,
      body: raw.body,
      attributes: { 'log.file.path': '/var/log/app/access.log', 'log.file.name': 'access.log', 'log.record.offset': 512, 'tributary.source.name': 'app' },
      resource: { 'deployment.environment': 'prod', 'host.name': 'web-1', 'tributary.agent.id': 'agent-7', 'service.name': 'shop' },
    });
  });

  it('takes the container runtime time and stream from the envelope', () => {
    const record = normalizeLogEvent({ ...asRawLogEvent(raw), time: '2026-11-23T11:59:59.123456789Z', attributes: { 'log.iostream': 'stderr' } });
    expect(record.timestamp).toBe('2026-11-23T11:59:59.123456789Z');
    expect(record.observed_timestamp).toBe(raw.observed_at);
    expect(record.attributes['log.iostream']).toBe('stderr');
  });

  it('flags truncated events', () => {
    expect(normalizeLogEvent({ ...asRawLogEvent(raw), truncated: true }).attributes['tributary.truncated']).toBe(true);
  });

  it('names the fields a malformed raw event lacks', () => {
    expect(() => asRawLogEvent({ ...raw, body: 42, source: null })).toThrow(`raw event ${raw.id} has missing or invalid fields: body, source`);
    expect(() => asRawLogEvent('text')).toThrow('raw event is not a JSON object');
  });
});

describe('resourceKey', () => {
  it('does not depend on attribute order', () => {
    expect(resourceKey({ b: '2', a: '1' })).toBe(resourceKey({ a: '1', b: '2' }));
    expect(resourceKey({ a: '1' })).not.toBe(resourceKey({ a: '2' }));
  });
});

describe('the published schema (shared/record/schemas/tributary.log.v1.json)', () => {
  it('accepts every shape the normalizer emits and rejects a broken record', async () => {
    const { logRecordErrors } = await import('../../../test/helpers/schemas.js');
    const plain = normalizeLogEvent(asRawLogEvent(raw));
    const rich = normalizeLogEvent({
      ...asRawLogEvent(raw),
      truncated: true,
      time: '2026-11-23T11:59:59.123456789Z',
      attributes: { 'log.iostream': 'stderr' },
    });
    expect(logRecordErrors(plain)).toBeUndefined();
    expect(logRecordErrors(rich)).toBeUndefined();
    expect(logRecordErrors({ ...plain, id: 'not-hex' })).toMatch(/pattern/);
    expect(logRecordErrors({ ...plain, extra: 1 })).toMatch(/additionalProperties/);
  });
});
