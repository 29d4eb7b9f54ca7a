import { describe, expect, it } from 'vitest';
import { expectPrototypesUntouched } from '../../../shared/test-support/boundary-contract.js';
import { asRawLogEvent, normalizeLogEvent } from '../normalize/normalize-log.js';
import { createJsonParser } from './json.js';
import { createLogfmtParser } from './logfmt.js';
import { applyParser, TIMESTAMP_FALLBACK_ATTRIBUTE } from './parse-rules.js';
import { createSyslogParser } from './syslog.js';

const rawEvent = (body: string, extra: Record<string, unknown> = {}) =>
  asRawLogEvent({
    id: '0123456789abcdef0123456789abcdef',
    observed_at: '2026-11-23T12:00:00.000Z',
    body,
    host: 'web-1',
    agent_id: 'agent-7',
    source: { type: 'file', name: 'app', path: '/var/log/app.log', file_id: '1:2', offset: 0 },
    ...extra,
  });

describe('applyParser', () => {
  it('13.1: {"x.__proto__.time":…} on one record leaves every later record and Object.prototype alone', () => {
    const polluted = expectPrototypesUntouched(() => {
      const record = normalizeLogEvent(rawEvent('{"x.__proto__.time":"2099-01-01T00:00:00Z"}'));
      expect(applyParser(record, createJsonParser())).toBe(true);
      return record;
    });
    expect(polluted.attributes['x.___proto__.time']).toBe('2099-01-01T00:00:00Z');
    expect(polluted.timestamp).toBe('2026-11-23T12:00:00.000Z');
    const later = normalizeLogEvent(rawEvent('plain'));
    expect((later as unknown as Record<string, unknown>).time).toBeUndefined();
    expect(({} as Record<string, unknown>).time).toBeUndefined();
  });

  it('13.1: {"__proto__":{"polluted":1}} merged into a record keeps its data and the record its prototype', () => {
    const record = expectPrototypesUntouched(() => {
      const parsed = normalizeLogEvent(rawEvent('{"__proto__":{"polluted":1}}'));
      applyParser(parsed, createJsonParser({ flatten: false }));
      return parsed;
    });
    expect(Object.getPrototypeOf(record.attributes)).toBeNull();
    expect(record.attributes['___proto__']).toBe('{"polluted":1}');
    expect((record.attributes as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('13.1: logfmt constructor.prototype.x=1 stays data', () => {
    const record = expectPrototypesUntouched(() => {
      const parsed = normalizeLogEvent(rawEvent('constructor.prototype.x=1 msg=hi'));
      applyParser(parsed, createLogfmtParser());
      return parsed;
    });
    expect(record.attributes['_constructor._prototype.x']).toBe('1');
    expect(record.body).toBe('hi');
  });

  it('13.1: an RFC 5424 SD-ID or PARAM-NAME naming a prototype is kept under a safe key', () => {
    const record = expectPrototypesUntouched(() => {
      const parsed = normalizeLogEvent(rawEvent('<14>1 2026-11-23T12:00:00Z h app - - [__proto__ constructor="1"] hi'));
      applyParser(parsed, createSyslogParser({ format: 'rfc5424' }));
      return parsed;
    });
    expect(record.attributes['log.syslog.structured_data.___proto__._constructor']).toBe('1');
  });

  it('13.1: raw event attributes and labels with prototype keys (any Kafka producer can write them) stay data', () => {
    const event = rawEvent('x', JSON.parse('{"attributes":{"__proto__":"a","constructor":"b"},"labels":{"__proto__":"c"}}') as Record<string, unknown>);
    const record = expectPrototypesUntouched(() => normalizeLogEvent(event));
    expect(record.attributes['___proto__']).toBe('a');
    expect(record.attributes['_constructor']).toBe('b');
    expect(record.resource['___proto__']).toBe('c');
    expect(Object.getPrototypeOf(record.attributes)).toBeNull();
    expect(Object.getPrototypeOf(record.resource)).toBeNull();
  });

  it('13.20: a time field that does not parse is flagged <parser>:<field> and the record keeps its observed time', () => {
    const json = normalizeLogEvent(rawEvent('{"time":"yesterday at noon","msg":"hi"}'));
    expect(applyParser(json, createJsonParser())).toBe(true);
    expect(json.timestamp).toBe('2026-11-23T12:00:00.000Z');
    expect(json.attributes[TIMESTAMP_FALLBACK_ATTRIBUTE]).toBe('json:time');
    expect(json.attributes['time']).toBe('yesterday at noon');

    const logfmt = normalizeLogEvent(rawEvent('at=13:99 msg=x'));
    applyParser(logfmt, createLogfmtParser({ timestamp_field: 'at', timestamp_format: 'HH:mm' }));
    expect(logfmt.attributes[TIMESTAMP_FALLBACK_ATTRIBUTE]).toBe('logfmt:at');

    const parsed = normalizeLogEvent(rawEvent('{"time":"2026-11-23T11:00:00Z"}'));
    applyParser(parsed, createJsonParser());
    expect(parsed.timestamp).toBe('2026-11-23T11:00:00.000Z');
    expect(TIMESTAMP_FALLBACK_ATTRIBUTE in parsed.attributes).toBe(false);

    const noTime = normalizeLogEvent(rawEvent('{"msg":"no time at all"}'));
    applyParser(noTime, createJsonParser());
    expect(TIMESTAMP_FALLBACK_ATTRIBUTE in noTime.attributes).toBe(false);
  });

  it('13.20: a container runtime time that does not parse is flagged normalize:time', () => {
    const record = normalizeLogEvent(rawEvent('x', { time: 'not a time' }));
    expect(record.timestamp).toBe('2026-11-23T12:00:00.000Z');
    expect(record.attributes[TIMESTAMP_FALLBACK_ATTRIBUTE]).toBe('normalize:time');
  });
});
