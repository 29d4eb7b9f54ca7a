import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricFamily } from '../../../metric-families/families.js';
import { DEFAULT_DISK_DEVICES_EXCLUDE } from '../config.js';
import { collectDisk, parseDiskstats, parseUdevProperties } from './disk.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'host-metrics-disk-'));
  await mkdir(join(dir, 'proc'));
  await mkdir(join(dir, 'udev'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function series(families: MetricFamily[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const family of families) {
    for (const entry of family.series) if (entry.kind === 'value') result[`${entry.name}${JSON.stringify(entry.labels)}`] = entry.value;
  }
  return result;
}

async function collect(diskstats: string[], udev: Record<string, string[]> = {}): Promise<MetricFamily[]> {
  await writeFile(join(dir, 'proc', 'diskstats'), `${diskstats.join('\n')}\n`);
  for (const [name, lines] of Object.entries(udev)) await writeFile(join(dir, 'udev', name), `${lines.join('\n')}\n`);
  return collectDisk({ procPath: join(dir, 'proc'), udevDataPath: join(dir, 'udev'), devicesExclude: new RegExp(DEFAULT_DISK_DEVICES_EXCLUDE) });
}

const VDA = ' 254       0 vda 299029 42846 13368410 222670 229134 141005 15196448 85055 0 252180 334404 108092 250 9506368 12090 97840 14588';

describe('parseDiskstats', () => {
  it('keeps as many statistics as the kernel printed', () => {
    expect(parseDiskstats('   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n 259 0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n')).toEqual([
      { major: '8', minor: '0', device: 'sda', stats: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
      { major: '259', minor: '0', device: 'nvme0n1', stats: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] },
    ]);
  });

  it('rejects a malformed line', () => {
    expect(() => parseDiskstats('8 0\n')).toThrow('unexpected /proc/diskstats line');
    expect(() => parseDiskstats('8 0 sda 1 x 3\n')).toThrow('unexpected /proc/diskstats line');
  });
});

describe('parseUdevProperties', () => {
  it('takes the E: properties and ignores links, tags and the rest', () => {
    expect(parseUdevProperties('S:disk/by-id/x\nE:ID_MODEL=Samsung SSD=860\nG:systemd\nE:ID_ATA=1\nI:123\n')).toEqual(
      new Map([
        ['ID_MODEL', 'Samsung SSD=860'],
        ['ID_ATA', '1'],
      ]),
    );
  });
});

describe('collectDisk', () => {
  it("scales as node_exporter does: sectors of 512 bytes, milliseconds times 0.001 (so 14588 ms is 14.588000000000001 s, node_exporter's double)", async () => {
    const values = series(await collect([VDA]));
    const vda = JSON.stringify({ device: 'vda' });
    expect(values[`node_disk_reads_completed_total${vda}`]).toBe(299029);
    expect(values[`node_disk_read_bytes_total${vda}`]).toBe(13368410 * 512);
    expect(values[`node_disk_written_bytes_total${vda}`]).toBe(15196448 * 512);
    expect(values[`node_disk_read_time_seconds_total${vda}`]).toBe(222.67000000000002);
    expect(values[`node_disk_io_now${vda}`]).toBe(0);
    expect(values[`node_disk_io_time_weighted_seconds_total${vda}`]).toBe(334.404);
    expect(values[`node_disk_discarded_sectors_total${vda}`]).toBe(9506368);
    expect(values[`node_disk_flush_requests_time_seconds_total${vda}`]).toBe(14.588000000000001);
  });

  it('exposes the discard and flush families only for kernels that print those columns', async () => {
    const families = await collect(['   8       0 sda 1 2 3 4 5 6 7 8 9 10 11', '   8      16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15']);
    const devicesOf = (name: string) => families.find((family) => family.name === name)?.series.map((entry) => entry.labels.device);
    expect(devicesOf('node_disk_io_time_weighted_seconds_total')).toEqual(['sda', 'sdb']);
    expect(devicesOf('node_disk_discard_time_seconds_total')).toEqual(['sdb']);
    expect(devicesOf('node_disk_flush_requests_total')).toBeUndefined();
    expect(families.find((family) => family.name === 'node_disk_io_now')?.type).toBe('gauge');
  });

  it("leaves out node_exporter 1.5's default exclusions: partitions, loop, ram and floppy devices", async () => {
    const families = await collect([
      '   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0',
      '   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0',
      '   8       1 sda1 0 0 0 0 0 0 0 0 0 0 0',
      ' 202       1 xvda1 0 0 0 0 0 0 0 0 0 0 0',
      ' 259       1 nvme0n1p1 0 0 0 0 0 0 0 0 0 0 0',
      ' 259       0 nvme0n1 0 0 0 0 0 0 0 0 0 0 0',
      ' 253       0 dm-0 0 0 0 0 0 0 0 0 0 0 0',
      ' 252       0 zram0 0 0 0 0 0 0 0 0 0 0 0',
    ]);
    expect(families.find((family) => family.name === 'node_disk_info')?.series.map((entry) => entry.labels.device)).toEqual(['nvme0n1', 'dm-0', 'zram0']);
  });

  it('labels node_disk_info from udev (serial is ID_SERIAL_SHORT in 1.5), and empty when udev has no record', async () => {
    const families = await collect(['   8       0 sda 1 2 3 4 5 6 7 8 9 10 11', VDA], {
      'b8:0': [
        'E:ID_PATH=pci-0000:00:1f.2-ata-1',
        'E:ID_WWN=0x5002',
        'E:ID_MODEL=Samsung_SSD',
        'E:SCSI_IDENT_SERIAL=SC1',
        'E:ID_SERIAL_SHORT=S123',
        'E:ID_REVISION=1.0',
      ],
    });
    expect(families.find((family) => family.name === 'node_disk_info')?.series.map((entry) => entry.labels)).toEqual([
      { device: 'sda', major: '8', minor: '0', path: 'pci-0000:00:1f.2-ata-1', wwn: '0x5002', model: 'Samsung_SSD', serial: 'S123', revision: '1.0' },
      { device: 'vda', major: '254', minor: '0', path: '', wwn: '', model: '', serial: '', revision: '' },
    ]);
    expect(families.find((family) => family.name === 'node_disk_info')?.help).toBe('Info of /sys/block/<block_device>.');
  });

  it('exposes filesystem, device mapper and ATA families from udev properties when present', async () => {
    const values = series(
      await collect(['   8       0 sda 1 2 3 4 5 6 7 8 9 10 11', ' 253       0 dm-0 1 2 3 4 5 6 7 8 9 10 11', '   8      16 sdb 1 2 3 4 5 6 7 8 9 10 11'], {
        'b8:0': [
          'E:ID_ATA=1',
          'E:ID_ATA_WRITE_CACHE=1',
          'E:ID_ATA_WRITE_CACHE_ENABLED=maybe',
          'E:ID_ATA_ROTATION_RATE_RPM=7200',
          'E:ID_FS_TYPE=ext4',
          'E:ID_FS_UUID=abcd',
        ],
        'b253:0': ['E:DM_NAME=vg0-root', 'E:DM_UUID=LVM-x', 'E:DM_VG_NAME=vg0', 'E:DM_LV_NAME=root'],
        // Without ID_ATA the ATA properties are ignored.
        'b8:16': ['E:ID_ATA_ROTATION_RATE_RPM=5400'],
      }),
    );
    const infoKeys = Object.keys(values).filter((key) => !/^node_disk_(reads|read_|writes|written|write_|io_|info)/.test(key));
    expect(infoKeys).toEqual([
      `node_disk_filesystem_info${JSON.stringify({ device: 'sda', type: 'ext4', usage: '', uuid: 'abcd', version: '' })}`,
      `node_disk_device_mapper_info${JSON.stringify({ device: 'dm-0', name: 'vg0-root', uuid: 'LVM-x', vg_name: 'vg0', lv_name: 'root', lv_layer: '' })}`,
      `node_disk_ata_write_cache${JSON.stringify({ device: 'sda' })}`,
      `node_disk_ata_rotation_rate_rpm${JSON.stringify({ device: 'sda' })}`,
    ]);
    expect(values[`node_disk_ata_rotation_rate_rpm${JSON.stringify({ device: 'sda' })}`]).toBe(7200);
  });
});
