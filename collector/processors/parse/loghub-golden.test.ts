import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../shared/paths.js';
import { parserSchema } from './config.js';
import { createParser } from './create-parser.js';
import { parseCsv } from '../../../test/helpers/csv.js';

/**
 * Golden tests against loghub (https://github.com/logpai/loghub; Zhu et al.,
 * "Loghub: A Large Collection of System Log Datasets for AI-driven Log
 * Analytics", ISSRE 2023). The files are read in place from the shared corpus
 * and never copied into this repository: their licence stays with them.
 *
 * For every line, the timestamp and severity our grok config extracts must
 * agree with loghub's own structured parse (`*_structured.csv`). The expected
 * values are derived from the CSV columns here, independently of
 * timestamp.ts/severity.ts, so the test cannot agree with itself.
 */
const CORPUS = join(packageRoot(), '..', 'shared', 'corpus', 'loghub');

/** OTel short names of the levels loghub uses in these two files. */
const EXPECTED_SEVERITY: Readonly<Record<string, { text: string; number: number }>> = {
  INFO: { text: 'INFO', number: 9 },
  WARN: { text: 'WARN', number: 13 },
  ERROR: { text: 'ERROR', number: 17 },
  FATAL: { text: 'FATAL', number: 21 },
};

interface Family {
  file: string;
  /** The parser block as it would appear in YAML. */
  config: unknown;
  /** loghub's Date + Time columns → RFC 3339 UTC. */
  expectedTimestamp(row: Record<string, string>): string;
  /** CSV column → attribute carrying the same value. */
  attributeColumns: Readonly<Record<string, string>>;
  /** Lines whose message ends in whitespace that loghub's Content column strips. */
  trailingSpaceLines: number;
}

const FAMILIES: readonly Family[] = [
  {
    // 2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for ...
    file: 'Hadoop_2k.log',
    config: {
      type: 'regex',
      pattern: '^%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} \\[%{DATA:thread.name}\\] %{JAVACLASS:code.namespace}: %{GREEDYDATA:message}$',
      timestamp_format: 'yyyy-MM-dd HH:mm:ss,SSS',
      timezone: 'UTC',
    },
    expectedTimestamp: (row) => `${col(row, 'Date')}T${col(row, 'Time').replace(',', '.')}Z`,
    attributeColumns: { Process: 'thread.name', Component: 'code.namespace' },
    trailingSpaceLines: 147,
  },
  {
    // 17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]
    file: 'Spark_2k.log',
    config: {
      type: 'regex',
      pattern: '^(?<timestamp>[0-9]{2}/[0-9]{2}/[0-9]{2} %{TIME}) %{LOGLEVEL:level} %{JAVACLASS:code.namespace}: %{GREEDYDATA:message}$',
      timestamp_format: 'yy/MM/dd HH:mm:ss',
      timezone: 'UTC',
    },
    expectedTimestamp: (row) => {
      const [yy, mm, dd] = col(row, 'Date').split('/');
      return `20${yy ?? ''}-${mm ?? ''}-${dd ?? ''}T${col(row, 'Time')}.000Z`;
    },
    attributeColumns: { Component: 'code.namespace' },
    trailingSpaceLines: 0,
  },
];

// The corpus sits beside the checkout (../shared/corpus), in CI too: without it this fails, it does not skip.
describe('loghub golden lines', () => {
  for (const family of FAMILIES) {
    it(`${family.file}: timestamp, severity, body and attributes agree with loghub on every line`, () => {
      const parser = createParser(parserSchema.parse(family.config));
      const lines = readLines(join(CORPUS, family.file));
      const rows = parseCsv(readFileSync(join(CORPUS, `${family.file}_structured.csv`), 'utf8'));
      expect(rows.length).toBe(lines.length);

      const disagreements: string[] = [];
      let timestampAgree = 0;
      let severityAgree = 0;
      let bodyExact = 0;
      let bodyTrailingSpace = 0;
      for (const row of rows) {
        const lineId = Number(col(row, 'LineId'));
        const line = lines[lineId - 1] ?? '';
        const result = parser.parse(line);
        if (!result.ok) {
          disagreements.push(`line ${lineId}: ${result.error}: ${line}`);
          continue;
        }
        const { fields } = result;
        const expectedTimestamp = family.expectedTimestamp(row);
        if (fields.timestamp === expectedTimestamp) timestampAgree++;
        else disagreements.push(`line ${lineId}: timestamp ${String(fields.timestamp)} != ${expectedTimestamp}`);

        const expectedSeverity = EXPECTED_SEVERITY[col(row, 'Level')];
        if (expectedSeverity !== undefined && fields.severityText === col(row, 'Level') && fields.severityNumber === expectedSeverity.number) {
          severityAgree++;
        } else {
          disagreements.push(`line ${lineId}: severity ${String(fields.severityText)} != loghub ${col(row, 'Level')}`);
        }

        // loghub strips trailing whitespace from Content (147 Hadoop lines end in
        // "ERROR IN CONTACTING RM. "); our body keeps the line's text as written,
        // so compare modulo that one normalisation and count it separately.
        const content = col(row, 'Content');
        if (fields.body === content) bodyExact++;
        else if (fields.body?.trimEnd() === content) bodyTrailingSpace++;
        else disagreements.push(`line ${lineId}: body ${JSON.stringify(fields.body)} != ${JSON.stringify(content)}`);
        for (const [column, attribute] of Object.entries(family.attributeColumns)) {
          if (fields.attributes[attribute] !== col(row, column)) {
            disagreements.push(`line ${lineId}: ${attribute} ${JSON.stringify(fields.attributes[attribute])} != ${column} ${JSON.stringify(col(row, column))}`);
          }
        }
      }

      expect(disagreements).toEqual([]);
      expect({ timestampAgree, severityAgree, body: bodyExact + bodyTrailingSpace }).toEqual({
        timestampAgree: rows.length,
        severityAgree: rows.length,
        body: rows.length,
      });
      expect(bodyTrailingSpace).toBe(family.trailingSpaceLines);
      expect(rows.length).toBe(2000);
    });
  }
});

function col(row: Record<string, string>, name: string): string {
  const value = row[name];
  if (value === undefined) throw new Error(`CSV has no column ${name}`);
  return value;
}

/** The log files use CRLF; the last line has no terminator. */
function readLines(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
