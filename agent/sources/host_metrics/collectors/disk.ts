import { join } from 'node:path';
import type { MetricFamily } from '../../../metric-families/families.js';
import { FamilyBuilder, buildAll, fieldsOf, numberOf, readOptionalText, readText } from './common.js';

/** /proc/diskstats times are milliseconds; node_exporter multiplies by this constant (not divides by 1000), and so must we to give the same doubles. */
const SECONDS_PER_TICK = 1.0 / 1000.0;
/** Sector counts are always of 512-byte "UNIX sectors", whatever the device's sector size (Documentation/block/stat.rst). */
const UNIX_SECTOR_SIZE = 512;

interface StatColumn {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  scale: number;
}

/**
 * The statistics after major, minor and name, in /proc/diskstats order. Kernels before 4.18 have the first 11,
 * 4.18 added the four discard columns, 5.5 the two flush columns; like node_exporter, only the columns present are exposed.
 */
const COLUMNS: readonly StatColumn[] = [
  { name: 'node_disk_reads_completed_total', type: 'counter', help: 'The total number of reads completed successfully.', scale: 1 },
  { name: 'node_disk_reads_merged_total', type: 'counter', help: 'The total number of reads merged.', scale: 1 },
  { name: 'node_disk_read_bytes_total', type: 'counter', help: 'The total number of bytes read successfully.', scale: UNIX_SECTOR_SIZE },
  { name: 'node_disk_read_time_seconds_total', type: 'counter', help: 'The total number of seconds spent by all reads.', scale: SECONDS_PER_TICK },
  { name: 'node_disk_writes_completed_total', type: 'counter', help: 'The total number of writes completed successfully.', scale: 1 },
  { name: 'node_disk_writes_merged_total', type: 'counter', help: 'The number of writes merged.', scale: 1 },
  { name: 'node_disk_written_bytes_total', type: 'counter', help: 'The total number of bytes written successfully.', scale: UNIX_SECTOR_SIZE },
  { name: 'node_disk_write_time_seconds_total', type: 'counter', help: 'This is the total number of seconds spent by all writes.', scale: SECONDS_PER_TICK },
  { name: 'node_disk_io_now', type: 'gauge', help: 'The number of I/Os currently in progress.', scale: 1 },
  { name: 'node_disk_io_time_seconds_total', type: 'counter', help: 'Total seconds spent doing I/Os.', scale: SECONDS_PER_TICK },
  { name: 'node_disk_io_time_weighted_seconds_total', type: 'counter', help: 'The weighted # of seconds spent doing I/Os.', scale: SECONDS_PER_TICK },
  { name: 'node_disk_discards_completed_total', type: 'counter', help: 'The total number of discards completed successfully.', scale: 1 },
  { name: 'node_disk_discards_merged_total', type: 'counter', help: 'The total number of discards merged.', scale: 1 },
  // Sectors, not bytes, in node_exporter 1.5.
  { name: 'node_disk_discarded_sectors_total', type: 'counter', help: 'The total number of sectors discarded successfully.', scale: 1 },
  {
    name: 'node_disk_discard_time_seconds_total',
    type: 'counter',
    help: 'This is the total number of seconds spent by all discards.',
    scale: SECONDS_PER_TICK,
  },
  { name: 'node_disk_flush_requests_total', type: 'counter', help: 'The total number of flush requests completed successfully', scale: 1 },
  {
    name: 'node_disk_flush_requests_time_seconds_total',
    type: 'counter',
    help: 'This is the total number of seconds spent by all flush requests.',
    scale: SECONDS_PER_TICK,
  },
];

/** udev properties that become gauges of their own when the disk is an ATA disk (`ID_ATA` set) and the value is a number. */
const ATA_PROPERTIES = [
  { property: 'ID_ATA_WRITE_CACHE', name: 'node_disk_ata_write_cache', help: 'ATA disk has a write cache.' },
  { property: 'ID_ATA_WRITE_CACHE_ENABLED', name: 'node_disk_ata_write_cache_enabled', help: 'ATA disk has its write cache enabled.' },
  { property: 'ID_ATA_ROTATION_RATE_RPM', name: 'node_disk_ata_rotation_rate_rpm', help: 'ATA disk rotation rate in RPMs (0 for SSDs).' },
] as const;

export interface DiskStatsLine {
  major: string;
  minor: string;
  device: string;
  /** Raw column values, as many as the kernel printed (up to 17 are used). */
  stats: number[];
}

export function parseDiskstats(text: string): DiskStatsLine[] {
  const lines: DiskStatsLine[] = [];
  for (const line of text.split('\n')) {
    const fields = fieldsOf(line);
    if (fields.length === 0) continue;
    const [major, minor, device] = fields;
    if (major === undefined || minor === undefined || device === undefined) {
      throw new Error(`unexpected /proc/diskstats line: ${JSON.stringify(line)}`);
    }
    const stats = fields.slice(3, 3 + COLUMNS.length).map(numberOf);
    if (stats.some(Number.isNaN)) throw new Error(`unexpected /proc/diskstats line: ${JSON.stringify(line)}`);
    lines.push({ major, minor, device, stats });
  }
  return lines;
}

/** The `E:KEY=value` properties of a udev database record (udevadm(8)); other record lines are links, tags and the like. */
export function parseUdevProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('E:')) continue;
    const equals = line.indexOf('=');
    if (equals < 0) continue;
    properties.set(line.slice(2, equals), line.slice(equals + 1));
  }
  return properties;
}

export interface DiskCollectorOptions {
  procPath: string;
  udevDataPath: string;
  devicesExclude: RegExp;
}

/**
 * `node_disk_*{device}` from /proc/diskstats, plus what node_exporter 1.5 derives from udev's record of each disk
 * (`/run/udev/data/b<major>:<minor>`): `node_disk_info` always (empty labels when udev has no record, as
 * node_exporter gives them), `node_disk_filesystem_info`, `node_disk_device_mapper_info` and the ATA gauges when
 * udev has the properties they need.
 */
export async function collectDisk(options: DiskCollectorOptions): Promise<MetricFamily[]> {
  const disks = parseDiskstats(await readText(join(options.procPath, 'diskstats'))).filter((disk) => !options.devicesExclude.test(disk.device));
  const udev = await Promise.all(
    disks.map(async (disk) => {
      const text = await readOptionalText(join(options.udevDataPath, `b${disk.major}:${disk.minor}`));
      return text === undefined ? new Map<string, string>() : parseUdevProperties(text);
    }),
  );
  const stats = COLUMNS.map((column) => new FamilyBuilder(column.name, column.type, column.help));
  const info = new FamilyBuilder('node_disk_info', 'gauge', 'Info of /sys/block/<block_device>.');
  const filesystemInfo = new FamilyBuilder('node_disk_filesystem_info', 'gauge', 'Info about disk filesystem.');
  const deviceMapperInfo = new FamilyBuilder('node_disk_device_mapper_info', 'gauge', 'Info about disk device mapper.');
  const ata = ATA_PROPERTIES.map((entry) => ({ ...entry, family: new FamilyBuilder(entry.name, 'gauge', entry.help) }));
  disks.forEach((disk, index) => {
    const device = disk.device;
    const properties = udev[index] ?? new Map<string, string>();
    const property = (key: string): string => properties.get(key) ?? '';
    info.add(
      {
        device,
        major: disk.major,
        minor: disk.minor,
        path: property('ID_PATH'),
        wwn: property('ID_WWN'),
        model: property('ID_MODEL'),
        // 1.5 takes only ID_SERIAL_SHORT; SCSI_IDENT_SERIAL and ID_SERIAL came in later releases.
        serial: property('ID_SERIAL_SHORT'),
        revision: property('ID_REVISION'),
      },
      1,
    );
    disk.stats.forEach((value, column) => stats[column]?.add({ device }, value * (COLUMNS[column]?.scale ?? 1)));
    const fsType = property('ID_FS_TYPE');
    if (fsType !== '') {
      filesystemInfo.add({ device, type: fsType, usage: property('ID_FS_USAGE'), uuid: property('ID_FS_UUID'), version: property('ID_FS_VERSION') }, 1);
    }
    const dmName = property('DM_NAME');
    if (dmName !== '') {
      deviceMapperInfo.add(
        {
          device,
          name: dmName,
          uuid: property('DM_UUID'),
          vg_name: property('DM_VG_NAME'),
          lv_name: property('DM_LV_NAME'),
          lv_layer: property('DM_LV_LAYER'),
        },
        1,
      );
    }
    if (property('ID_ATA') !== '') {
      for (const entry of ata) {
        const raw = properties.get(entry.property);
        const value = raw === undefined ? NaN : parseGoFloat(raw);
        if (!Number.isNaN(value)) entry.family.add({ device }, value);
      }
    }
  });
  return buildAll([...stats, info, filesystemInfo, deviceMapperInfo, ...ata.map((entry) => entry.family)]);
}

/** Close enough to Go's `strconv.ParseFloat` for udev values ("1", "7200"): decimal only, NaN when Go would fail. */
function parseGoFloat(text: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
}
