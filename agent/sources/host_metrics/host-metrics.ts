import type { Labels, MetricFamily } from '../../metric-families/families.js';
import { errorMessage } from '../../../shared/errors.js';
import { compileDevicePattern, type HostMetricsCollectorName, type HostMetricsSourceConfig } from './config.js';
import { CpuState, collectCpu } from './collectors/cpu.js';
import { collectDisk } from './collectors/disk.js';
import { StuckMounts, collectFilesystem, type StatfsFunction } from './collectors/filesystem.js';
import { collectLoad } from './collectors/load.js';
import { collectMemory } from './collectors/memory.js';
import { collectNetwork } from './collectors/network.js';

/** What one source carries from one collection to the next. */
export interface HostMetricsState {
  /** CPU counters never step backwards between collections; topology is read once. */
  readonly cpu: CpuState;
  /** Mounts whose statfs is still hanging are not asked again. */
  readonly stuckMounts: StuckMounts;
}

export function createHostMetricsState(): HostMetricsState {
  return { cpu: new CpuState(), stuckMounts: new StuckMounts() };
}

export interface CollectHostMetricsOptions {
  config: HostMetricsSourceConfig;
  /** One per source, kept between collections; without it each collection starts afresh (fine for one-off collections). */
  state?: HostMetricsState;
  /** Stands in for `fs.promises.statfs` (tests). */
  statfs?: StatfsFunction;
}

export interface HostMetricsError {
  collector: HostMetricsCollectorName;
  error: string;
}

export interface HostMetricsResult {
  /** Sorted by name, as node_exporter exposes them; series carry node_exporter's labels only (target labels are attached by the source, see `familiesToEvents`). */
  families: MetricFamily[];
  /** A failed collector contributes no families and one entry here; the others are unaffected. */
  errors: HostMetricsError[];
}

/**
 * One collection of every configured collector, run concurrently, each reading its /proc file once. Names, types,
 * HELP and labels are node_exporter 1.5's (`--collector.cpu --collector.meminfo --collector.loadavg
 * --collector.filesystem --collector.diskstats --collector.netdev`), so its dashboards and alerts work unchanged;
 * test/integration/host-metrics-vs-node-exporter.test.ts holds the two side by side.
 */
export async function collectHostMetrics(options: CollectHostMetricsOptions): Promise<HostMetricsResult> {
  const { config } = options;
  const state = options.state ?? createHostMetricsState();
  const errors: HostMetricsError[] = [];
  const run = (collector: HostMetricsCollectorName): Promise<MetricFamily[]> => {
    switch (collector) {
      case 'cpu':
        return collectCpu({ procPath: config.proc_path, sysPath: config.sys_path, state: state.cpu });
      case 'memory':
        return collectMemory({
          procPath: config.proc_path,
          onInvalid: (lines) =>
            errors.push({
              collector,
              error: `skipped meminfo fields whose names are not metric names: ${lines.map((line) => JSON.stringify(line)).join(', ')}`,
            }),
        });
      case 'load':
        return collectLoad({ procPath: config.proc_path });
      case 'filesystem':
        return collectFilesystem({
          procPath: config.proc_path,
          rootFsPath: config.root_fs_path,
          mountPointsExclude: compileDevicePattern(config.filesystem.mount_points_exclude),
          fsTypesExclude: compileDevicePattern(config.filesystem.fs_types_exclude),
          timeoutMs: config.filesystem.mount_timeout,
          stuck: state.stuckMounts,
          ...(options.statfs === undefined ? {} : { statfs: options.statfs }),
        });
      case 'disk':
        return collectDisk({
          procPath: config.proc_path,
          udevDataPath: config.udev_data_path,
          devicesExclude: compileDevicePattern(config.disk.devices_exclude),
        });
      case 'network':
        return collectNetwork({ procPath: config.proc_path, sysPath: config.sys_path, devicesExclude: compileDevicePattern(config.network.devices_exclude) });
    }
  };
  const results = await Promise.all(
    config.collectors.map(async (collector) => {
      try {
        return await run(collector);
      } catch (error) {
        errors.push({ collector, error: errorMessage(error) });
        return [];
      }
    }),
  );
  const families = results.flat().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { families, errors };
}

/** The labels Prometheus would attach to a node_exporter target on this host: `job`, `instance` and the configured extras. */
export function hostMetricsTargetLabels(config: HostMetricsSourceConfig, instance: string): Labels {
  return { ...config.labels, job: config.job, instance };
}
