import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectNetwork, parseNetDev } from './network.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'host-metrics-net-'));
  await mkdir(join(dir, 'proc', 'net'), { recursive: true });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = [
  'Inter-|   Receive                                                |  Transmit',
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
];
const LO = '    lo: 3493835211  258770    0    0    0     0          0         0 3493835211  258770    0    0    0     0       0          0';
const ETH0 = '  eth0:1256346046   43931    1    2    3     4          5         6  5014144   35252    7    8    9    10      11         12';

describe('parseNetDev', () => {
  it('reads the 16 columns per device, also when an old kernel leaves no space after the colon', () => {
    expect(parseNetDev([...HEADER, LO, ETH0, ''].join('\n'))).toEqual([
      { device: 'lo', stats: [3493835211, 258770, 0, 0, 0, 0, 0, 0, 3493835211, 258770, 0, 0, 0, 0, 0, 0] },
      { device: 'eth0', stats: [1256346046, 43931, 1, 2, 3, 4, 5, 6, 5014144, 35252, 7, 8, 9, 10, 11, 12] },
    ]);
  });

  it('rejects a line without a colon or with too few columns', () => {
    expect(() => parseNetDev([...HEADER, 'eth0 1 2 3'].join('\n'))).toThrow('missing colon');
    expect(() => parseNetDev([...HEADER, 'eth0: 1 2 3'].join('\n'))).toThrow('unexpected /proc/net/dev line');
  });
});

describe('collectNetwork', () => {
  async function collect(devicesExclude = /^$/) {
    await writeFile(join(dir, 'proc', 'net', 'dev'), [...HEADER, LO, ETH0, ''].join('\n'));
    return collectNetwork({ procPath: join(dir, 'proc'), sysPath: join(dir, 'sys'), devicesExclude });
  }

  it("names each column as node_exporter's netdev collector does, as counters", async () => {
    const families = await collect();
    expect(families.map((family) => family.name)).toEqual([
      'node_network_receive_bytes_total',
      'node_network_receive_packets_total',
      'node_network_receive_errs_total',
      'node_network_receive_drop_total',
      'node_network_receive_fifo_total',
      'node_network_receive_frame_total',
      'node_network_receive_compressed_total',
      'node_network_receive_multicast_total',
      'node_network_transmit_bytes_total',
      'node_network_transmit_packets_total',
      'node_network_transmit_errs_total',
      'node_network_transmit_drop_total',
      'node_network_transmit_fifo_total',
      'node_network_transmit_colls_total',
      'node_network_transmit_carrier_total',
      'node_network_transmit_compressed_total',
    ]);
    expect(families.every((family) => family.type === 'counter')).toBe(true);
    expect(families[14]).toMatchObject({
      help: 'Network device statistic transmit_carrier.',
      series: [
        { name: 'node_network_transmit_carrier_total', labels: { device: 'lo' }, value: 0 },
        { name: 'node_network_transmit_carrier_total', labels: { device: 'eth0' }, value: 11 },
      ],
    });
  });

  it('adds receive_nohandler from sysfs for devices that have it', async () => {
    await mkdir(join(dir, 'sys', 'class', 'net', 'eth0', 'statistics'), { recursive: true });
    await writeFile(join(dir, 'sys', 'class', 'net', 'eth0', 'statistics', 'rx_nohandler'), '17\n');
    const nohandler = (await collect()).find((family) => family.name === 'node_network_receive_nohandler_total');
    expect(nohandler).toEqual({
      name: 'node_network_receive_nohandler_total',
      type: 'counter',
      help: 'Network device statistic receive_nohandler.',
      series: [{ kind: 'value', name: 'node_network_receive_nohandler_total', labels: { device: 'eth0' }, value: 17 }],
    });
  });

  it('leaves out excluded devices', async () => {
    const families = await collect(/^lo$/);
    expect(families[0]?.series.map((entry) => entry.labels.device)).toEqual(['eth0']);
  });
});
