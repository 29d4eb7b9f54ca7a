import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectLoad, parseLoadavg } from './load.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'host-metrics-load-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseLoadavg', () => {
  it('takes the three load averages', () => {
    expect(parseLoadavg('0.09 0.63 1.11 1/234 5678\n')).toEqual([0.09, 0.63, 1.11]);
  });

  it('rejects anything else', () => {
    expect(() => parseLoadavg('0.09 0.63\n')).toThrow('unexpected /proc/loadavg content: "0.09 0.63"');
  });
});

describe('collectLoad', () => {
  it('exposes node_load1, node_load5 and node_load15 as gauges', async () => {
    await mkdir(join(dir, 'proc'));
    await writeFile(join(dir, 'proc', 'loadavg'), '0.09 0.63 1.11 1/234 5678\n');
    expect(await collectLoad({ procPath: join(dir, 'proc') })).toEqual([
      { name: 'node_load1', type: 'gauge', help: '1m load average.', series: [{ kind: 'value', name: 'node_load1', labels: {}, value: 0.09 }] },
      { name: 'node_load5', type: 'gauge', help: '5m load average.', series: [{ kind: 'value', name: 'node_load5', labels: {}, value: 0.63 }] },
      { name: 'node_load15', type: 'gauge', help: '15m load average.', series: [{ kind: 'value', name: 'node_load15', labels: {}, value: 1.11 }] },
    ]);
  });
});
