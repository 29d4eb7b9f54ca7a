import { afterEach, describe, expect, it } from 'vitest';
import { formatTime, parseTimeFormat, timePattern, utcMinute } from './time-format.js';

function format(pattern: string, ...timestamps: string[]): string {
  const tokens = parseTimeFormat(pattern);
  if (tokens === undefined) throw new Error(`not a time pattern: ${pattern}`);
  return formatTime(tokens, utcMinute(timestamps));
}

describe('time placeholders', () => {
  it('are runs of yyyy, MM, dd, HH, mm with - _ . between', () => {
    expect(parseTimeFormat('yyyy-MM-dd')).toEqual([{ unit: 'yyyy' }, { text: '-' }, { unit: 'MM' }, { text: '-' }, { unit: 'dd' }]);
    expect(parseTimeFormat('yyyyMMddHHmm')).toEqual([{ unit: 'yyyy' }, { unit: 'MM' }, { unit: 'dd' }, { unit: 'HH' }, { unit: 'mm' }]);
    expect(parseTimeFormat('HH_mm')).toEqual([{ unit: 'HH' }, { text: '_' }, { unit: 'mm' }]);
    for (const notTime of ['', '-', '._', 'yy', 'YYYY', 'yyyy/MM', 'yyyy MM', 'service.name', 'resource.yyyy', 'ss', 'M']) {
      expect(parseTimeFormat(notTime), notTime).toBeUndefined();
    }
  });

  it('render fixed-width fields of the event time', () => {
    const at = '2026-03-04T05:06:07.890Z';
    expect(format('yyyy-MM-dd', at)).toBe('2026-03-04');
    expect(format('yyyy.MM.dd', at)).toBe('2026.03.04');
    expect(format('yyyyMMdd_HH.mm', at)).toBe('20260304_05.06');
    expect(format('dd.MM.yyyy', at)).toBe('04.03.2026');
  });

  it('as patterns keep separators and turn every field into *', () => {
    const tokens = parseTimeFormat('yyyy.MM.dd-HH') ?? [];
    expect(timePattern(tokens)).toBe('*.*.*-*');
  });
});

describe('the event time', () => {
  const zone = process.env.TZ;
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it('is UTC, whatever the offset of the timestamp and the zone of the host', () => {
    for (const tz of ['UTC', 'Pacific/Kiritimati', 'America/St_Johns']) {
      process.env.TZ = tz;
      expect(utcMinute(['2026-11-24T01:30:00+02:00'])).toBe('2026-11-23T23:30');
      expect(utcMinute(['2026-11-23T23:30:59.999Z'])).toBe('2026-11-23T23:30');
      // An offset that moves the time across midnight and the year moves every field, not only the hour.
      expect(format('yyyy-MM-dd_HH', '2026-12-31T23:59:00-01:00')).toBe('2027-01-01_00');
    }
  });

  it('is the first timestamp that is a time, else the epoch (never now: a replay must land where the first write did)', () => {
    expect(utcMinute(['garbage', '2025-01-02T03:04:05Z'])).toBe('2025-01-02T03:04');
    expect(utcMinute(['', 'also garbage'])).toBe('1970-01-01T00:00');
    expect(utcMinute([])).toBe('1970-01-01T00:00');
    // Beyond year 9999 the ISO form is +010000-…: no four-digit year to render, so it is not a time here.
    expect(utcMinute(['+010000-01-01T00:00:00Z', '2025-01-02T03:04:05+00:00'])).toBe('2025-01-02T03:04');
    expect(utcMinute(['-000001-01-01T00:00:00Z'])).toBe('1970-01-01T00:00');
  });
});
