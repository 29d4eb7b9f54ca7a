import { describe, expect, it } from 'vitest';

import { parseTimestamp, validateTimestampFormat, validateTimezone } from './timestamp.js';

describe('parseTimestamp: auto-detection', () => {
  it.each([
    // RFC 3339 / ISO 8601
    ['2003-10-11T22:14:15.003Z', '2003-10-11T22:14:15.003Z'],
    ['2003-10-11T22:14:15Z', '2003-10-11T22:14:15.000Z'],
    ['2003-10-11t22:14:15.5z', '2003-10-11T22:14:15.500Z'],
    ['2003-08-24T05:14:15.000003-07:00', '2003-08-24T12:14:15.000003Z'],
    ['2024-01-02T03:04:05.123456789+05:30', '2024-01-01T21:34:05.123456789Z'],
    ['2024-01-02 03:04:05+0100', '2024-01-02T02:04:05.000Z'],
    ['2024-01-02 03:04:05 UTC', '2024-01-02T03:04:05.000Z'],
    ['2024-01-02T03:04', '2024-01-02T03:04:00.000Z'],
    ['2024-01-02', '2024-01-02T00:00:00.000Z'],
    // Hadoop / log4j ISO8601 with a comma fraction
    ['2015-10-18 18:01:47,978', '2015-10-18T18:01:47.978Z'],
    ['2015/10/18 18:01:47', '2015-10-18T18:01:47.000Z'],
    // Spark (log4j yy/MM/dd)
    ['17/06/09 20:10:40', '2017-06-09T20:10:40.000Z'],
    // Common log format
    ['10/Oct/2000:13:55:36 -0700', '2000-10-10T20:55:36.000Z'],
    // Apache error log / asctime, 2.2 and 2.4
    ['Sun Dec 04 04:47:44 2005', '2005-12-04T04:47:44.000Z'],
    ['Fri Sep 09 10:42:29.902022 2011', '2011-09-09T10:42:29.902022Z'],
    // RFC 5322 / HTTP date
    ['Sun, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'],
    ['Tue, 1 Jul 2003 10:52:37 +0200', '2003-07-01T08:52:37.000Z'],
    // Leading/trailing whitespace is ignored
    ['  2024-01-02T03:04:05Z\n', '2024-01-02T03:04:05.000Z'],
  ])('%s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it('reads syslog timestamps, with a space-padded single-digit day', () => {
    const referenceTime = new Date('2024-07-10T00:00:00Z');
    expect(parseTimestamp('Jun 14 15:16:01', { referenceTime })).toBe('2024-06-14T15:16:01.000Z');
    expect(parseTimestamp('Jul  3 04:08:03', { referenceTime })).toBe('2024-07-03T04:08:03.000Z');
    expect(parseTimestamp('Oct 11 22:14:15.123456', { referenceTime })).toBe('2023-10-11T22:14:15.123456Z');
  });

  it('reads epoch numbers, choosing the unit by magnitude', () => {
    expect(parseTimestamp(1445144423)).toBe('2015-10-18T05:00:23.000Z');
    expect(parseTimestamp(1445144423.25)).toBe('2015-10-18T05:00:23.250Z');
    expect(parseTimestamp(1445144423722)).toBe('2015-10-18T05:00:23.722Z');
    expect(parseTimestamp('1445144423722123')).toBe('2015-10-18T05:00:23.722123Z');
    // 19 digits exceed a double's precision; strings keep every digit.
    expect(parseTimestamp('1445144423722000123')).toBe('2015-10-18T05:00:23.722000123Z');
    expect(parseTimestamp(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('parseTimestamp: named formats', () => {
  it('rfc3339, rfc3164, common_log', () => {
    expect(parseTimestamp('2003-10-11T22:14:15.003Z', { format: 'rfc3339' })).toBe('2003-10-11T22:14:15.003Z');
    expect(parseTimestamp('Oct 11 22:14:15', { format: 'rfc3164', referenceTime: new Date('2003-12-01T00:00:00Z') })).toBe('2003-10-11T22:14:15.000Z');
    expect(parseTimestamp('10/Oct/2000:13:55:36 +0000', { format: 'common_log' })).toBe('2000-10-10T13:55:36.000Z');
    // A named format does not fall back to the others.
    expect(parseTimestamp('Oct 11 22:14:15', { format: 'rfc3339' })).toBeUndefined();
  });

  it('unix, unix_ms, unix_ns take the unit from the format, not the magnitude', () => {
    expect(parseTimestamp('1', { format: 'unix' })).toBe('1970-01-01T00:00:01.000Z');
    expect(parseTimestamp('1.5', { format: 'unix' })).toBe('1970-01-01T00:00:01.500Z');
    expect(parseTimestamp(1500, { format: 'unix_ms' })).toBe('1970-01-01T00:00:01.500Z');
    expect(parseTimestamp('1500000', { format: 'unix_us' })).toBe('1970-01-01T00:00:01.500000Z');
    expect(parseTimestamp('1700000000123456789', { format: 'unix_ns' })).toBe('2023-11-14T22:13:20.123456789Z');
    expect(parseTimestamp('1e9', { format: 'unix' })).toBeUndefined();
  });
});

describe('parseTimestamp: pattern language', () => {
  it.each([
    ['yyyy-MM-dd HH:mm:ss,SSS', '2015-10-18 18:01:47,978', '2015-10-18T18:01:47.978Z'],
    ['yy/MM/dd HH:mm:ss', '17/06/09 20:10:40', '2017-06-09T20:10:40.000Z'],
    ['yy/MM/dd HH:mm:ss', '69/06/09 20:10:40', '1969-06-09T20:10:40.000Z'],
    ['dd/MMM/yyyy:HH:mm:ss Z', '10/Oct/2000:13:55:36 -0700', '2000-10-10T20:55:36.000Z'],
    ['EEE MMM dd HH:mm:ss yyyy', 'Sun Dec 04 04:47:44 2005', '2005-12-04T04:47:44.000Z'],
    ["yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX", '2024-01-02T03:04:05.123456789+02:00', '2024-01-02T01:04:05.123456789Z'],
    ['d.M.yyyy h:mm a', '4.7.2024 3:05 PM', '2024-07-04T15:05:00.000Z'],
    ['d.M.yyyy h:mm a', '4.7.2024 12:05 am', '2024-07-04T00:05:00.000Z'],
    ["yyyyMMdd'T'HHmmss", '20240704T150501', '2024-07-04T15:05:01.000Z'],
    ["'at' HH:mm 'on' dd MMMM yyyy", 'at 15:05 on 04 July 2024', '2024-07-04T15:05:00.000Z'],
  ])('%s reads %s', (format, input, expected) => {
    expect(parseTimestamp(input, { format })).toBe(expected);
  });

  it('rejects text that does not match the pattern exactly', () => {
    expect(parseTimestamp('2015-10-18 18:01:47', { format: 'yyyy-MM-dd HH:mm:ss,SSS' })).toBeUndefined();
    expect(parseTimestamp('2015-10-18 18:01:47,', { format: 'yyyy-MM-dd HH:mm:ss,SSS' })).toBeUndefined();
    expect(parseTimestamp('2015-10-18 18:01:47.5 x', { format: 'yyyy-MM-dd HH:mm:ss.S' })).toBeUndefined();
  });

  it('13.21: single-letter DateTimeFormatter tokens read unpadded and padded values', () => {
    expect(parseTimestamp('2024-5-1 7:3:9', { format: 'yyyy-M-d H:m:s' })).toBe('2024-05-01T07:03:09.000Z');
    expect(parseTimestamp('2024-05-01 07:03:09', { format: 'yyyy-M-d H:m:s' })).toBe('2024-05-01T07:03:09.000Z');
    expect(parseTimestamp('2024-05-01 07:03:09', { format: 'uuuu-MM-dd HH:mm:ss' })).toBe('2024-05-01T07:03:09.000Z');
    expect(parseTimestamp('24/5/1 7:03 PM', { format: 'yy/M/d h:mm a' })).toBe('2024-05-01T19:03:00.000Z');
  });

  it('13.21: S…S reads 1-9 fraction digits, n reads nano-of-second', () => {
    expect(parseTimestamp('2024-05-01 07:03:09.5', { format: 'yyyy-MM-dd HH:mm:ss.S' })).toBe('2024-05-01T07:03:09.500Z');
    expect(parseTimestamp('2024-05-01 07:03:09.123456', { format: 'yyyy-MM-dd HH:mm:ss.S' })).toBe('2024-05-01T07:03:09.123456Z');
    expect(parseTimestamp('2024-05-01 07:03:09,97', { format: 'yyyy-MM-dd HH:mm:ss,SSS' })).toBe('2024-05-01T07:03:09.970Z');
    expect(parseTimestamp('2024-05-01 07:03:09.123456789', { format: 'yyyy-MM-dd HH:mm:ss.SSSSSSSSS' })).toBe('2024-05-01T07:03:09.123456789Z');
    expect(parseTimestamp('2024-05-01 07:03:09 5000', { format: 'yyyy-MM-dd HH:mm:ss n' })).toBe('2024-05-01T07:03:09.000005000Z');
  });

  it('13.21: offsets (X, XX, XXX, x, Z), zone ids (VV), UTC names (z) and day names (E, EEEE)', () => {
    expect(parseTimestamp('2024-05-01T07:03:09+0200', { format: "yyyy-MM-dd'T'HH:mm:ssZ" })).toBe('2024-05-01T05:03:09.000Z');
    expect(parseTimestamp('2024-05-01T07:03:09Z', { format: "yyyy-MM-dd'T'HH:mm:ssXXX" })).toBe('2024-05-01T07:03:09.000Z');
    expect(parseTimestamp('2024-05-01T07:03:09-05:00', { format: "yyyy-MM-dd'T'HH:mm:ssxxx" })).toBe('2024-05-01T12:03:09.000Z');
    expect(parseTimestamp('2024-05-01 07:03:09 Europe/Berlin', { format: 'yyyy-MM-dd HH:mm:ss VV' })).toBe('2024-05-01T05:03:09.000Z');
    expect(parseTimestamp('2024-05-01 07:03:09 Mars/Olympus', { format: 'yyyy-MM-dd HH:mm:ss VV' })).toBeUndefined();
    expect(parseTimestamp('Wed 2024-05-01 07:03:09 GMT', { format: 'E yyyy-MM-dd HH:mm:ss z' })).toBe('2024-05-01T07:03:09.000Z');
    expect(parseTimestamp('Wednesday, 1 May 2024 07:03', { format: 'EEEE, d MMMM yyyy HH:mm' })).toBe('2024-05-01T07:03:00.000Z');
  });

  it('13.21: an unknown token is reported with the list of valid tokens', () => {
    const problem = validateTimestampFormat('yyyy-MM-dd Q');
    expect(problem).toMatch(/unknown token "Q"/);
    expect(problem).toMatch(/valid tokens: yyyy, yy, y, uuuu, .*HH, H, .*mm, m, ss, s, S…S \(1-9\), n, .*VV, .*'literal'/);
    expect(validateTimestampFormat('yyyy-MM-dd HHH')).toMatch(/unknown token "HHH"/);
  });

  it('validates formats for config checks', () => {
    expect(validateTimestampFormat('yyyy-MM-dd HH:mm:ss')).toBeUndefined();
    expect(validateTimestampFormat('rfc3164')).toBeUndefined();
    expect(validateTimestampFormat('yyyy-MM-dd Q')).toMatch(/unknown token "Q"/);
    expect(validateTimestampFormat("yyyy 'oops")).toMatch(/unterminated quote/);
    expect(parseTimestamp('2024', { format: 'yyyy Q' })).toBeUndefined();
  });
});

describe('parseTimestamp: time zones', () => {
  it('applies a fixed offset or an IANA zone to times without an offset', () => {
    expect(parseTimestamp('2024-01-15 12:00:00', { timezone: '+02:00' })).toBe('2024-01-15T10:00:00.000Z');
    expect(parseTimestamp('2024-01-15 12:00:00', { timezone: '-0530' })).toBe('2024-01-15T17:30:00.000Z');
    expect(parseTimestamp('2024-01-15 12:00:00', { timezone: 'Europe/Berlin' })).toBe('2024-01-15T11:00:00.000Z');
    expect(parseTimestamp('2024-07-15 12:00:00', { timezone: 'Europe/Berlin' })).toBe('2024-07-15T10:00:00.000Z');
    expect(parseTimestamp('2024-07-15 12:00:00', { timezone: 'America/New_York' })).toBe('2024-07-15T16:00:00.000Z');
    expect(parseTimestamp('Sun Dec 04 04:47:44 2005', { timezone: 'Asia/Tokyo' })).toBe('2005-12-03T19:47:44.000Z');
  });

  it('lets an offset in the text win over the configured zone', () => {
    expect(parseTimestamp('2024-01-15T12:00:00Z', { timezone: 'Europe/Berlin' })).toBe('2024-01-15T12:00:00.000Z');
    expect(parseTimestamp('10/Oct/2000:13:55:36 -0700', { timezone: 'Asia/Tokyo' })).toBe('2000-10-10T20:55:36.000Z');
    expect(parseTimestamp(1445144423, { timezone: 'Asia/Tokyo' })).toBe('2015-10-18T05:00:23.000Z');
  });

  it('is right on both sides of a DST transition (Europe/Berlin, 2024-03-31 02:00 → 03:00)', () => {
    const tz = { timezone: 'Europe/Berlin' };
    expect(parseTimestamp('2024-03-31 01:59:59', tz)).toBe('2024-03-31T00:59:59.000Z');
    expect(parseTimestamp('2024-03-31 03:00:00', tz)).toBe('2024-03-31T01:00:00.000Z');
    // 02:30 does not exist that night: moved forward by the gap (java.time's choice), i.e. 03:30 CEST.
    expect(parseTimestamp('2024-03-31 02:30:00', tz)).toBe('2024-03-31T01:30:00.000Z');
  });

  it('takes the earlier instant for an ambiguous time (Europe/Berlin, 2024-10-27 03:00 → 02:00)', () => {
    const tz = { timezone: 'Europe/Berlin' };
    expect(parseTimestamp('2024-10-27 01:59:59', tz)).toBe('2024-10-26T23:59:59.000Z');
    expect(parseTimestamp('2024-10-27 02:30:00', tz)).toBe('2024-10-27T00:30:00.000Z'); // 02:30 CEST, not CET
    expect(parseTimestamp('2024-10-27 03:00:00', tz)).toBe('2024-10-27T02:00:00.000Z');
  });

  it('handles the southern hemisphere (Australia/Sydney DST starts 2024-10-06 02:00)', () => {
    const tz = { timezone: 'Australia/Sydney' };
    expect(parseTimestamp('2024-10-06 01:30:00', tz)).toBe('2024-10-05T15:30:00.000Z');
    expect(parseTimestamp('2024-10-06 03:30:00', tz)).toBe('2024-10-05T16:30:00.000Z');
  });

  it('gives undefined, not an exception, for an unknown zone', () => {
    expect(parseTimestamp('2024-01-15 12:00:00', { timezone: 'Mars/Olympus_Mons' })).toBeUndefined();
    expect(validateTimezone('Mars/Olympus_Mons')).toMatch(/unknown time zone/);
    expect(validateTimezone('Europe/Berlin')).toBeUndefined();
    expect(validateTimezone('+05:30')).toBeUndefined();
  });
});

describe('parseTimestamp: year inference for syslog timestamps', () => {
  it('puts December lines read just after New Year in the previous year', () => {
    const referenceTime = new Date('2025-01-01T00:10:00Z');
    expect(parseTimestamp('Dec 31 23:59:59', { referenceTime })).toBe('2024-12-31T23:59:59.000Z');
    expect(parseTimestamp('Jan  1 00:00:05', { referenceTime })).toBe('2025-01-01T00:00:05.000Z');
  });

  it('tolerates a sender clock up to a day ahead across New Year', () => {
    const referenceTime = new Date('2024-12-31T23:59:00Z');
    expect(parseTimestamp('Jan  1 00:00:05', { referenceTime })).toBe('2025-01-01T00:00:05.000Z');
    // More than a day ahead: last year's January rather than a future one.
    expect(parseTimestamp('Jan  3 00:00:05', { referenceTime })).toBe('2024-01-03T00:00:05.000Z');
  });

  it('goes back to the last leap year for Feb 29', () => {
    expect(parseTimestamp('Feb 29 12:00:00', { referenceTime: new Date('2027-06-01T00:00:00Z') })).toBe('2024-02-29T12:00:00.000Z');
  });

  it('uses the configured zone', () => {
    const referenceTime = new Date('2025-01-01T00:10:00Z');
    // 00:30 on Jan 1 in Berlin is 23:30 UTC on Dec 31, i.e. before the reference: this year.
    expect(parseTimestamp('Jan  1 00:30:00', { referenceTime, timezone: 'Europe/Berlin' })).toBe('2024-12-31T23:30:00.000Z');
  });
});

describe('parseTimestamp: garbage', () => {
  it.each([
    [''],
    ['   '],
    ['garbage'],
    ['2024-13-01T00:00:00Z'],
    ['2024-02-30 00:00:00'],
    ['2023-02-29 00:00:00'],
    ['2024-01-01T24:00:00Z'],
    ['2024-01-01T23:60:00Z'],
    ['2024-01-01T00:00:00+25:00'],
    ['Foo 14 15:16:01'],
    ['32/Oct/2000:13:55:36 -0700'],
    ['Sun Dec 04 04:47:44'],
    ['-1'],
    ['12abc'],
    ['99999999999999999999999'],
  ])('%j → undefined', (input) => {
    expect(parseTimestamp(input)).toBeUndefined();
  });

  it('rejects non-finite and negative numbers', () => {
    expect(parseTimestamp(Number.NaN)).toBeUndefined();
    expect(parseTimestamp(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(parseTimestamp(-5)).toBeUndefined();
  });
});
