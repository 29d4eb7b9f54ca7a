import { describe, expect, it } from 'vitest';
import type { ProcessStatus, StatusTable } from '../shared/telemetry/status.js';
import { renderTop } from './top.js';

const components = (sent: number, extraRows = 0): StatusTable => ({
  id: 'components',
  title: 'Components',
  key: ['component'],
  columns: [
    { key: 'component', label: 'component' },
    { key: 'sent', label: 'events out', unit: 'total' },
    { key: 'buffered', label: 'buffered', unit: 'bytes' },
  ],
  rows: [{ component: 'kafka', sent, buffered: 2048 }, ...Array.from({ length: extraRows }, (_, index) => ({ component: `c${index}`, sent: 0, buffered: 0 }))],
});

const agent = (now: string, sent: number, extraRows = 0): ProcessStatus => ({
  process: 'agent',
  id: 'web-1',
  version: '0.1.0',
  host: 'web-1.example',
  pid: 42,
  started_at: '2026-12-07T10:00:00.000Z',
  now,
  ready: false,
  problems: ['failed: source.app since 2026-12-07T10:00:01.000Z (restarts: 1): EACCES'],
  tables: [components(sent, extraRows)],
});

describe('tributary top rendering', () => {
  it('shows each process with its state and problems, every table aligned, and rates from the previous poll', () => {
    const url = 'http://web-1:9464/';
    const previous = new Map([[url, agent('2026-12-07T10:00:00.000Z', 1000)]]);
    const text = renderTop(
      [
        { url, status: agent('2026-12-07T10:00:02.000Z', 1500) },
        { url: 'http://web-2:9464/', error: 'connect ECONNREFUSED' },
      ],
      previous,
      200,
    );
    expect(text).toBe(
      [
        'agent web-1  NOT READY  v0.1.0  web-1.example pid 42  http://web-1:9464/',
        '  ! failed: source.app since 2026-12-07T10:00:01.000Z (restarts: 1): EACCES',
        'Components',
        '  component     events out  buffered',
        '  kafka      1,500 (250/s)   2.0 KiB',
        '',
        'http://web-2:9464/  UNREACHABLE  connect ECONNREFUSED',
        '',
        '',
      ].join('\n'),
    );
  });

  it('cuts lines to the terminal width and long tables to 15 rows', () => {
    const text = renderTop([{ url: 'http://web-1:9464/', status: agent('2026-12-07T10:00:00.000Z', 1, 30) }], new Map(), 40);
    const lines = text.split('\n');
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(40);
    expect(lines[0]).toBe('agent web-1  NOT READY  v0.1.0  web-1.e…');
    expect(lines.filter((line) => /^ {2}(kafka|c\d+) /.test(line))).toHaveLength(15);
    expect(text).toContain('  … 16 more (see /status.json)');
  });
});
