import { describe, expect, it } from 'vitest';

import { normalizeSeverity, severityFromHttpStatus, severityFromSyslogPriority } from './severity.js';

describe('normalizeSeverity', () => {
  it.each([
    ['trace', 1, 'TRACE'],
    ['FINEST', 1, 'TRACE'],
    ['verbose', 1, 'TRACE'],
    ['trace5', 1, 'TRACE'],
    ['debug', 5, 'DEBUG'],
    ['DBG', 5, 'DEBUG'],
    ['finer', 5, 'DEBUG'],
    ['Fine', 6, 'DEBUG2'],
    ['config', 7, 'DEBUG3'],
    ['info', 9, 'INFO'],
    ['INFO', 9, 'INFO'],
    ['Information', 9, 'INFO'],
    ['informational', 9, 'INFO'],
    ['notice', 10, 'INFO2'],
    ['warn', 13, 'WARN'],
    ['WARNING', 13, 'WARN'],
    ['err', 17, 'ERROR'],
    ['Error', 17, 'ERROR'],
    ['SEVERE', 17, 'ERROR'],
    ['crit', 18, 'ERROR2'],
    ['CRITICAL', 18, 'ERROR2'],
    ['alert', 19, 'ERROR3'],
    ['panic', 19, 'ERROR3'],
    ['emerg', 21, 'FATAL'],
    ['emergency', 21, 'FATAL'],
    ['fatal', 21, 'FATAL'],
    // glog / klog single letters
    ['I', 9, 'INFO'],
    ['W', 13, 'WARN'],
    ['E', 17, 'ERROR'],
    ['F', 21, 'FATAL'],
    ['D', 5, 'DEBUG'],
    // the data model's own short names round-trip
    ['INFO2', 10, 'INFO2'],
    ['error3', 19, 'ERROR3'],
    ['FATAL4', 24, 'FATAL4'],
    ['  warn ', 13, 'WARN'],
  ])('%j → %i %s', (input, number, text) => {
    expect(normalizeSeverity(input)).toEqual({ number, text });
  });

  it('reads numbers 0–7 (and digit strings) as syslog severities (RFC 5424 §6.2.1)', () => {
    expect(normalizeSeverity(0)).toEqual({ number: 21, text: 'FATAL' });
    expect(normalizeSeverity(3)).toEqual({ number: 17, text: 'ERROR' });
    expect(normalizeSeverity('4')).toEqual({ number: 13, text: 'WARN' });
    expect(normalizeSeverity(5)).toEqual({ number: 10, text: 'INFO2' });
    expect(normalizeSeverity(7)).toEqual({ number: 5, text: 'DEBUG' });
  });

  it('reads pino/bunyan levels 10–60', () => {
    expect(normalizeSeverity(10)).toEqual({ number: 1, text: 'TRACE' });
    expect(normalizeSeverity(30)).toEqual({ number: 9, text: 'INFO' });
    expect(normalizeSeverity('50')).toEqual({ number: 17, text: 'ERROR' });
    expect(normalizeSeverity(60)).toEqual({ number: 21, text: 'FATAL' });
  });

  it.each([[''], ['loud'], ['x'], ['info5'], [8], [24], [3.5], [-1], [Number.NaN]])('%j → undefined', (input) => {
    expect(normalizeSeverity(input)).toBeUndefined();
  });
});

describe('severityFromSyslogPriority', () => {
  it('uses the low three bits of PRI (facility × 8 + severity)', () => {
    expect(severityFromSyslogPriority(0)).toEqual({ number: 21, text: 'FATAL' }); // kern.emerg
    expect(severityFromSyslogPriority(34)).toEqual({ number: 18, text: 'ERROR2' }); // auth.crit (RFC 3164 example)
    expect(severityFromSyslogPriority(165)).toEqual({ number: 10, text: 'INFO2' }); // local4.notice (RFC 5424 example)
    expect(severityFromSyslogPriority(14)).toEqual({ number: 9, text: 'INFO' }); // user.info
    expect(severityFromSyslogPriority(11)).toEqual({ number: 17, text: 'ERROR' }); // user.err
    expect(severityFromSyslogPriority(12)).toEqual({ number: 13, text: 'WARN' }); // user.warning
    expect(severityFromSyslogPriority(15)).toEqual({ number: 5, text: 'DEBUG' }); // user.debug
    expect(severityFromSyslogPriority(9)).toEqual({ number: 19, text: 'ERROR3' }); // user.alert
  });
});

describe('severityFromHttpStatus', () => {
  it.each([
    [200, 9, 'INFO'],
    [101, 9, 'INFO'],
    [304, 9, 'INFO'],
    [404, 13, 'WARN'],
    [499, 13, 'WARN'],
    [500, 17, 'ERROR'],
    [503, 17, 'ERROR'],
  ])('%i → %s', (status, number, text) => {
    expect(severityFromHttpStatus(status)).toEqual({ number, text });
  });

  it('13.22: parsers keep severity_text as the source wrote it and normalize only severity_number', async () => {
    const { createJsonParser } = await import('./json.js');
    const { createLogfmtParser } = await import('./logfmt.js');
    const cases: [string, string, number][] = [
      ['{"level":"WARNING"}', 'WARNING', 13],
      ['{"level":"D"}', 'D', 5],
      ['{"level":"eror"}', 'eror', 17],
      ['{"level":50}', '50', 17],
      ['{"level":" Info "}', ' Info ', 9],
    ];
    for (const [line, text, number] of cases) {
      const result = createJsonParser().parse(line);
      expect(result.ok && { text: result.fields.severityText, number: result.fields.severityNumber }).toEqual({ text, number });
    }
    const logfmt = createLogfmtParser().parse('level=Warning msg=x');
    expect(logfmt.ok && logfmt.fields.severityText).toBe('Warning');
  });
});
