import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectMemory, parseMeminfo } from './memory.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'host-metrics-memory-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseMeminfo', () => {
  it("applies node_exporter's naming: (x) becomes _x, kB values become _bytes times 1024, unitless values keep the bare name", () => {
    const text = [
      'MemTotal:       24684092 kB',
      'Active(anon):       1544 kB',
      'HugePages_Total:       0',
      'Hugepagesize:       2048 kB',
      '',
      'Foo_total:  5',
      '',
    ].join('\n');
    expect(parseMeminfo(text)).toEqual({
      fields: [
        { key: 'MemTotal_bytes', value: 24684092 * 1024 },
        { key: 'Active_anon_bytes', value: 1544 * 1024 },
        { key: 'HugePages_Total', value: 0 },
        { key: 'Hugepagesize_bytes', value: 2048 * 1024 },
        { key: 'Foo_total', value: 5 },
      ],
      invalid: [],
    });
  });

  it('reports, rather than exposes, a field whose derived name is not a metric name (node_exporter 1.5 panics on it)', () => {
    expect(parseMeminfo('MemFree: 1 kB\nWeird(x)(y): 1 kB\n')).toEqual({ fields: [{ key: 'MemFree_bytes', value: 1024 }], invalid: ['Weird(x)(y): 1 kB'] });
  });

  it('rejects a malformed value or line', () => {
    expect(() => parseMeminfo('MemTotal: lots kB\n')).toThrow('invalid value in meminfo: "MemTotal: lots kB"');
    expect(() => parseMeminfo('MemTotal: 1 kB extra\n')).toThrow('invalid line in meminfo');
  });
});

describe('collectMemory', () => {
  it('gives one gauge family per field, a counter for a name ending in _total, with HELP as node_exporter words it', async () => {
    await mkdir(join(dir, 'proc'));
    await writeFile(join(dir, 'proc', 'meminfo'), 'MemTotal: 2 kB\nHugePages_Total: 0\nFoo_total: 5\nBad(a)(b): 1 kB\n');
    const invalid: string[][] = [];
    const families = await collectMemory({ procPath: join(dir, 'proc'), onInvalid: (lines) => invalid.push(lines) });
    expect(families).toEqual([
      {
        name: 'node_memory_MemTotal_bytes',
        type: 'gauge',
        help: 'Memory information field MemTotal_bytes.',
        series: [{ kind: 'value', name: 'node_memory_MemTotal_bytes', labels: {}, value: 2048 }],
      },
      {
        name: 'node_memory_HugePages_Total',
        type: 'gauge',
        help: 'Memory information field HugePages_Total.',
        series: [{ kind: 'value', name: 'node_memory_HugePages_Total', labels: {}, value: 0 }],
      },
      {
        name: 'node_memory_Foo_total',
        type: 'counter',
        help: 'Memory information field Foo_total.',
        series: [{ kind: 'value', name: 'node_memory_Foo_total', labels: {}, value: 5 }],
      },
    ]);
    expect(invalid).toEqual([['Bad(a)(b): 1 kB']]);
  });
});
