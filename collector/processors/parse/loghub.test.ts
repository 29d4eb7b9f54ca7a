/**
 * Agreement with loghub (https://github.com/logpai/loghub, Zhu et al., ISSRE
 * 2023): for every line of the 2k samples, what our parsers extract must match
 * loghub's own, independent parse in `*_structured.csv`.
 *
 * The samples are read from `../shared/corpus/loghub/` beside the checkout and
 * are not copied into the repository: their license (loghub/LICENSE) asks for
 * attribution on any redistribution.
 *
 * Expected values are built from the CSV columns by string manipulation
 * only, never by calling parseTimestamp, so the comparison is not circular.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { packageRoot } from '../../../shared/paths.js';
import { createAccessLogParser } from './access-log.js';
import { normalizeSeverity } from './severity.js';
import { createSyslogParser } from './syslog.js';
import { parseTimestamp } from './timestamp.js';
import type { ParsedFields } from './types.js';
import { parseCsv } from '../../../test/helpers/csv.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function corpusFile(name: string): string {
  return readFileSync(join(packageRoot(), '..', 'shared', 'corpus', 'loghub', name), 'utf8');
}

/** The samples use CRLF; the last line has no terminator. */
function logLines(name: string): string[] {
  const lines = corpusFile(name).split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

interface Sample {
  lines: string[];
  rows: Record<string, string>[];
}

function loadSample(name: string): Sample {
  const lines = logLines(`${name}_2k.log`);
  const rows = parseCsv(corpusFile(`${name}_2k.log_structured.csv`));
  expect(lines).toHaveLength(2000);
  expect(rows).toHaveLength(2000);
  // Row i of the CSV must describe line i of the log.
  expect(rows.map((r) => r['LineId'])).toEqual(lines.map((_, i) => String(i + 1)));
  return { lines, rows };
}

function col(row: Record<string, string>, name: string): string {
  const value = row[name];
  if (value === undefined) throw new Error(`no column ${name}`);
  return value;
}

const pad2 = (text: string): string => text.padStart(2, '0');

/** Collects every disagreement so a failure lists all lines, not just the first. */
function mismatches<T>(sample: Sample, check: (line: string, row: Record<string, string>) => T | undefined): { line: number; got: T }[] {
  const out: { line: number; got: T }[] = [];
  sample.lines.forEach((line, i) => {
    const row = sample.rows[i];
    if (row === undefined) return;
    const got = check(line, row);
    if (got !== undefined) out.push({ line: i + 1, got });
  });
  return out;
}

function ok(result: ReturnType<ReturnType<typeof createSyslogParser>['parse']>): ParsedFields {
  if (!result.ok) throw new Error(result.error);
  return result.fields;
}

/** Level words in the samples → the SeverityNumber/text we promise (severity.ts), written out independently. */
const EXPECTED_LEVEL: Record<string, { number: number; text: string }> = {
  notice: { number: 10, text: 'INFO2' },
  error: { number: 17, text: 'ERROR' },
  warn: { number: 13, text: 'WARN' },
  INFO: { number: 9, text: 'INFO' },
  WARN: { number: 13, text: 'WARN' },
  ERROR: { number: 17, text: 'ERROR' },
  FATAL: { number: 21, text: 'FATAL' },
};

describe('Linux_2k (rsyslog/sysklogd file lines: RFC 3164 without PRI)', () => {
  // The sample is from 2005 (June–July); any reference late in the same year works.
  const parser = createSyslogParser({ format: 'rfc3164', referenceTime: () => new Date('2005-12-31T00:00:00Z') });
  const sample = loadSample('Linux');

  it('agrees on month, day and time for every line', () => {
    const bad = mismatches(sample, (line, row) => {
      const fields = ok(parser.parse(line));
      const expected = `2005-${pad2(String(MONTHS.indexOf(col(row, 'Month')) + 1))}-${pad2(col(row, 'Date'))}T${col(row, 'Time')}.000Z`;
      return fields.timestamp === expected ? undefined : { got: fields.timestamp, expected };
    });
    expect(bad).toEqual([]);
  });

  it('has no severity, and the CSV "Level" column is really the host name', () => {
    // Lines without <PRI> carry no severity, and loghub's Linux CSV has none
    // either: its "Level" column holds the HOSTNAME field ("combo" on every
    // line). So we compare it with host.name and check we invent no level.
    const bad = mismatches(sample, (line, row) => {
      const fields = ok(parser.parse(line));
      const host = fields.resource?.['host.name'];
      return host === col(row, 'Level') && fields.severityNumber === undefined && fields.severityText === undefined ? undefined : { host };
    });
    expect(bad).toEqual([]);
  });

  it('agrees on the tag (Component), pid and message (Content)', () => {
    const bad = mismatches(sample, (line, row) => {
      const fields = ok(parser.parse(line));
      const got = {
        component: fields.attributes['log.syslog.appname'],
        pid: fields.attributes['process.pid'],
        // loghub trims Content: line 1 ends in "rhost=218.188.2.4 ", and the
        // kernel indents some messages ("kernel:  DMA zone: ..." on 8 lines,
        // 1913-1923). The body keeps the sender's spacing after "tag: ".
        content: fields.body?.trim(),
      };
      const expected = { component: col(row, 'Component'), pid: col(row, 'PID') === '' ? undefined : Number(col(row, 'PID')), content: col(row, 'Content') };
      return JSON.stringify(got) === JSON.stringify(expected) ? undefined : { got, expected };
    });
    expect(bad).toEqual([]);
  });
});

describe('OpenSSH_2k (syslog file lines, no PRI)', () => {
  const parser = createSyslogParser({ format: 'auto', referenceTime: () => new Date('2005-12-31T00:00:00Z') });
  const sample = loadSample('OpenSSH');

  it('agrees on month, day, time, host and pid for every line', () => {
    // Columns: Date = month name, Day = day of month, Component = host name (LabSZ).
    const bad = mismatches(sample, (line, row) => {
      const fields = ok(parser.parse(line));
      const got = {
        timestamp: fields.timestamp?.slice(5),
        host: fields.resource?.['host.name'],
        app: fields.attributes['log.syslog.appname'],
        pid: fields.attributes['process.pid'],
        content: fields.body?.trimEnd(),
        severity: fields.severityNumber,
      };
      const expected = {
        timestamp: `${pad2(String(MONTHS.indexOf(col(row, 'Date')) + 1))}-${pad2(col(row, 'Day'))}T${col(row, 'Time')}.000Z`,
        host: col(row, 'Component'),
        app: 'sshd',
        pid: Number(col(row, 'Pid')),
        content: col(row, 'Content'),
        severity: undefined,
      };
      return JSON.stringify(got) === JSON.stringify(expected) ? undefined : { got, expected };
    });
    expect(bad).toEqual([]);
  });
});

describe('Apache_2k (Apache 2.2 error log)', () => {
  const parser = createAccessLogParser({ format: 'apache_error' });
  const sample = loadSample('Apache');

  it('agrees on time, level and message for every line', () => {
    const bad = mismatches(sample, (line, row) => {
      const fields = ok(parser.parse(line));
      // "Sun Dec 04 04:47:44 2005" → 2005-12-04T04:47:44.000Z
      const t = /^\w{3} (\w{3}) (\d{2}) ([\d:]{8}) (\d{4})$/.exec(col(row, 'Time'));
      if (t === null) return { unexpectedCsvTime: col(row, 'Time') };
      const [, month = '', day = '', time = '', year = ''] = t;
      const level = EXPECTED_LEVEL[col(row, 'Level')];
      const expected = {
        timestamp: `${year}-${pad2(String(MONTHS.indexOf(month) + 1))}-${day}T${time}.000Z`,
        severityNumber: level?.number,
        // severity_text is the level as the line writes it (13.22).
        severityText: level === undefined ? undefined : col(row, 'Level'),
      };
      const got = { timestamp: fields.timestamp, severityNumber: fields.severityNumber, severityText: fields.severityText };
      return JSON.stringify(got) === JSON.stringify(expected) ? undefined : { got, expected };
    });
    expect(bad).toEqual([]);
  });

  it('agrees on the message, with the [client] block moved to client.address', () => {
    // loghub's Content keeps "[client 1.2.3.4] " in the message; we lift it
    // into client.address (32 lines), so compare with it put back.
    const bad = mismatches(sample, (line, row) => {
      const fields = ok(parser.parse(line));
      const client = fields.attributes['client.address'];
      const body = typeof client === 'string' ? `[client ${client}] ${fields.body ?? ''}` : fields.body;
      return body?.trimEnd() === col(row, 'Content') ? undefined : { body, content: col(row, 'Content') };
    });
    expect(bad).toEqual([]);
  });
});

describe('Hadoop_2k (log4j "yyyy-MM-dd HH:mm:ss,SSS LEVEL") via parseTimestamp + normalizeSeverity', () => {
  const sample = loadSample('Hadoop');

  it('agrees on timestamp and level for every line', () => {
    const bad = mismatches(sample, (line, row) => {
      const m = /^(\S+ \S+) (\S+) /.exec(line);
      if (m === null) return { unmatched: line };
      const level = EXPECTED_LEVEL[col(row, 'Level')];
      const expected = { timestamp: `${col(row, 'Date')}T${col(row, 'Time').replace(',', '.')}Z`, severity: level };
      const got = { timestamp: parseTimestamp(m[1] ?? ''), severity: normalizeSeverity(m[2] ?? '') };
      return JSON.stringify(got) === JSON.stringify(expected) ? undefined : { got, expected };
    });
    expect(bad).toEqual([]);
  });

  it('agrees with the explicit pattern too', () => {
    const bad = mismatches(sample, (line, row) => {
      const got = parseTimestamp(line.slice(0, 23), { format: 'yyyy-MM-dd HH:mm:ss,SSS' });
      return got === `${col(row, 'Date')}T${col(row, 'Time').replace(',', '.')}Z` ? undefined : got;
    });
    expect(bad).toEqual([]);
  });
});

describe('Spark_2k (log4j "yy/MM/dd HH:mm:ss LEVEL") via parseTimestamp + normalizeSeverity', () => {
  const sample = loadSample('Spark');

  it('agrees on timestamp and level for every line', () => {
    const bad = mismatches(sample, (line, row) => {
      const m = /^(\S+ \S+) (\S+) /.exec(line);
      if (m === null) return { unmatched: line };
      const [yy = '', mm = '', dd = ''] = col(row, 'Date').split('/');
      const expected = { timestamp: `20${yy}-${mm}-${dd}T${col(row, 'Time')}.000Z`, severity: EXPECTED_LEVEL[col(row, 'Level')] };
      const got = { timestamp: parseTimestamp(m[1] ?? ''), severity: normalizeSeverity(m[2] ?? '') };
      return JSON.stringify(got) === JSON.stringify(expected) ? undefined : { got, expected };
    });
    expect(bad).toEqual([]);
  });
});
