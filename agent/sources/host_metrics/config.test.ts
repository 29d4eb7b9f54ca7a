import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, validateConfig } from '../../../shared/config/load.js';
import { DEFAULT_DISK_DEVICES_EXCLUDE, DEFAULT_FS_TYPES_EXCLUDE, DEFAULT_MOUNT_POINTS_EXCLUDE, hostMetricsSourceSchema } from './config.js';

/** Stands in for the agent's `sources` map, so key paths read as they will in a real config. */
const wrapper = z.strictObject({ sources: z.record(z.string(), hostMetricsSourceSchema) });

function problemsOf(source: Record<string, unknown>): string[] {
  try {
    validateConfig(wrapper, { sources: { host: { type: 'host_metrics', ...source } } }, 'agent.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('hostMetricsSourceSchema', () => {
  it("fills node_exporter 1.5's defaults", () => {
    expect(hostMetricsSourceSchema.parse({ type: 'host_metrics' })).toEqual({
      type: 'host_metrics',
      interval: 15_000,
      collectors: ['cpu', 'memory', 'load', 'filesystem', 'disk', 'network'],
      proc_path: '/proc',
      sys_path: '/sys',
      root_fs_path: '/',
      udev_data_path: '/run/udev/data',
      filesystem: { mount_points_exclude: DEFAULT_MOUNT_POINTS_EXCLUDE, fs_types_exclude: DEFAULT_FS_TYPES_EXCLUDE, mount_timeout: 5_000 },
      disk: { devices_exclude: DEFAULT_DISK_DEVICES_EXCLUDE },
      network: { devices_exclude: '^$' },
      job: 'node',
      labels: {},
    });
  });

  it('has the exact default patterns of node_exporter 1.5', () => {
    expect(DEFAULT_MOUNT_POINTS_EXCLUDE).toBe('^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)');
    expect(DEFAULT_DISK_DEVICES_EXCLUDE).toBe('^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$');
    expect(new RegExp(DEFAULT_FS_TYPES_EXCLUDE).test('cgroup2')).toBe(true);
    expect(new RegExp(DEFAULT_FS_TYPES_EXCLUDE).test('ext4')).toBe(false);
  });

  it('parses durations as users write them', () => {
    const config = validateConfig(wrapper, { sources: { host: { type: 'host_metrics', interval: '30s', filesystem: { mount_timeout: '2s' } } } }, 'agent.yaml');
    expect(config.sources.host).toMatchObject({ interval: 30_000, filesystem: { mount_timeout: 2_000, mount_points_exclude: DEFAULT_MOUNT_POINTS_EXCLUDE } });
  });

  it('13.18: names a bad regular expression at its key, at start-up, without the pattern', () => {
    expect(problemsOf({ disk: { devices_exclude: '^(sd' } })).toEqual(['sources.host.disk.devices_exclude: invalid regular expression: Unterminated group']);
    // Go's inline flags are not JavaScript; better refused than silently matching something else.
    expect(problemsOf({ filesystem: { fs_types_exclude: '(?i)^nfs$' } })).toEqual([
      'sources.host.filesystem.fs_types_exclude: invalid regular expression: Invalid group',
    ]);
  });

  it('rejects unknown collectors, an empty or repeated list, and unknown keys', () => {
    expect(problemsOf({ collectors: ['cpu', 'gpu'] })).toEqual([
      'sources.host.collectors[1]: Invalid option: expected one of "cpu"|"memory"|"load"|"filesystem"|"disk"|"network"',
    ]);
    expect(problemsOf({ collectors: [] })).toEqual(['sources.host.collectors: name at least one of cpu, memory, load, filesystem, disk, network']);
    expect(problemsOf({ collectors: ['cpu', 'cpu'] })).toEqual(['sources.host.collectors: names a collector twice']);
    expect(problemsOf({ netdev: {} })).toEqual(['sources.host.netdev: unknown key (check the spelling; see the configuration reference in README.md)']);
  });

  it('rejects a zero interval and labels that would replace job or instance', () => {
    expect(problemsOf({ interval: 0 })).toEqual(['sources.host.interval: must be longer than 0']);
    expect(problemsOf({ labels: { job: 'x', team: 'db' } })).toEqual([
      'sources.host.labels.job: set the job with the "job" key; "instance" is always the host name',
    ]);
    expect(problemsOf({ labels: { 'bad-name': 'x', __meta: 'y' } })).toEqual([
      'sources.host.labels.bad-name: not a label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"',
      'sources.host.labels.__meta: not a label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"',
    ]);
  });
});
