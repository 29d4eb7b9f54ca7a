import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errorMessage } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import { staticTargetGroupSchema, type ScrapeJobConfig } from './config.js';

/** One thing to scrape, after Prometheus's target label rules. */
export interface ScrapeTarget {
  job: string;
  /** Scraped with this URL. */
  url: string;
  /** `job`, `instance` and the group's labels; no `__`-prefixed labels remain. */
  labels: Record<string, string>;
  /** Stable identity: job plus the URL plus the labels. */
  key: string;
}

type TargetGroup = z.output<typeof staticTargetGroupSchema>;

/** Turns target groups into targets the way Prometheus does without relabel_configs. */
export function targetsFromGroups(job: ScrapeJobConfig, groups: readonly TargetGroup[]): ScrapeTarget[] {
  const targets: ScrapeTarget[] = [];
  for (const group of groups) {
    for (const address of group.targets) {
      const all: Record<string, string> = { job: job.job_name, ...group.labels };
      const scheme = all.__scheme__ ?? job.scheme;
      const metricsPath = all.__metrics_path__ ?? job.metrics_path;
      const params: Record<string, string[]> = { ...job.params };
      const labels: Record<string, string> = {};
      for (const [name, value] of Object.entries(all)) {
        if (name.startsWith('__param_')) params[name.slice('__param_'.length)] = [value];
        else if (!name.startsWith('__') && value !== '') labels[name] = value;
      }
      if (!Object.hasOwn(labels, 'instance')) labels.instance = address;
      const url = new URL(`${scheme}://${address}${metricsPath}`);
      for (const [name, values] of Object.entries(params)) for (const value of values) url.searchParams.append(name, value);
      const sortedLabels = Object.keys(labels)
        .sort()
        .map((name) => `${name}=${labels[name] ?? ''}`)
        .join(',');
      targets.push({ job: job.job_name, url: url.toString(), labels, key: `${job.job_name}|${url.toString()}|${sortedLabels}` });
    }
  }
  return targets;
}

const fileSdSchema = z.array(
  z.strictObject({
    targets: z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s/:]+):\d{1,5}$/, 'a target is host:port')),
    labels: z.record(z.string(), z.string()).default({}),
  }),
);

/** Parses one file_sd file (JSON, or YAML by extension); errors name the file and the element. */
export function parseFileSd(path: string, text: string): TargetGroup[] {
  const ext = extname(path).toLowerCase();
  let data: unknown;
  try {
    data = ext === '.yml' || ext === '.yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${errorMessage(error)}`);
  }
  const parsed = fileSdSchema.safeParse(data ?? []);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data;
}

/**
 * The current targets of one job: static ones plus file_sd files, re-read
 * when they change (file-system events, with `refresh_interval` as the safety
 * net). A file that becomes unreadable or invalid keeps its last good targets
 * and is logged, as Prometheus does, so a bad edit does not stop scraping.
 */
export class JobTargets {
  private readonly staticTargets: ScrapeTarget[];
  private readonly fileGroups = new Map<string, TargetGroup[]>();
  private readonly patterns: string[];
  private watcher: FSWatcher | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();

  constructor(
    private readonly job: ScrapeJobConfig,
    private readonly onChange: (targets: ScrapeTarget[]) => void,
    private readonly logger: Logger,
  ) {
    this.staticTargets = targetsFromGroups(job, job.static_configs);
    this.patterns = job.file_sd_configs.flatMap((config) => config.files.map((file) => resolve(file)));
  }

  get targets(): ScrapeTarget[] {
    const fromFiles = targetsFromGroups(this.job, [...this.fileGroups.values()].flat());
    const unique = new Map<string, ScrapeTarget>();
    for (const target of [...this.staticTargets, ...fromFiles]) unique.set(target.key, target);
    return [...unique.values()];
  }

  async start(): Promise<void> {
    if (this.patterns.length > 0) {
      await this.refresh();
      const isSdFile = picomatch(this.patterns);
      const directories = [...new Set(this.patterns.map((pattern) => picomatch.scan(pattern).base || dirname(pattern)))];
      this.watcher = watch(directories, { ignoreInitial: true, ignored: (path, stats) => stats?.isFile() === true && !isSdFile(path) });
      this.watcher.on('all', () => void this.queueRefresh());
      const interval = Math.min(...this.job.file_sd_configs.map((config) => config.refresh_interval));
      this.refreshTimer = setInterval(() => void this.queueRefresh(), interval);
    }
    this.onChange(this.targets);
  }

  private queueRefresh(): Promise<void> {
    this.refreshing = this.refreshing
      .then(async () => {
        const before = this.targets.map((target) => target.key).join('\n');
        await this.refresh();
        const after = this.targets;
        if (after.map((target) => target.key).join('\n') !== before) this.onChange(after);
      })
      .catch((error: unknown) => {
        // A rejected link would reject unhandled (callers `void` this) and stop every later refresh chained on it.
        this.logger.error({ job: this.job.job_name, err: errorMessage(error) }, 'file_sd refresh failed; keeping the current targets');
      });
    return this.refreshing;
  }

  private async refresh(): Promise<void> {
    const files = await glob(this.patterns, { absolute: true, onlyFiles: true });
    for (const known of this.fileGroups.keys()) if (!files.includes(known)) this.fileGroups.delete(known);
    for (const file of files) {
      try {
        this.fileGroups.set(file, parseFileSd(file, await readFile(file, 'utf8')));
      } catch (error) {
        this.logger.error({ job: this.job.job_name, file, err: errorMessage(error) }, 'file_sd file unreadable or invalid; keeping its previous targets');
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.watcher?.close();
    await this.refreshing;
  }
}
