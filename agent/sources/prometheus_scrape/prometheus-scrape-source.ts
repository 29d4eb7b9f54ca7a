import type { Lifecycle } from '../../../shared/pipeline/types.js';
import type { MetricSourceDeps } from '../../metric-families/emit.js';
import type { PrometheusScrapeSourceConfig, ScrapeJobConfig } from './config.js';
import { compileRelabelRules, type MetricRelabeler } from './relabel.js';
import { loadScrapeClientOptions, type ScrapeClientOptions } from './scrape-client.js';
import { ScrapeLoop } from './scrape-loop.js';
import { JobTargets, type ScrapeTarget } from './targets.js';
import type { StatusContribution, StatusReporter, StatusTableSpec } from '../../../shared/telemetry/status.js';

interface JobSettings {
  config: ScrapeJobConfig;
  client: ScrapeClientOptions;
  relabel: MetricRelabeler | undefined;
}

/**
 * Prometheus-compatible scraping: one loop per target, targets from
 * static_configs and file_sd (loops start and stop as the files change).
 * Scrapes cannot be re-read, so they go to the spooled metrics output, which
 * accepts them even while Kafka is away.
 */
/** The targets the agent scrapes, on the status page. */
export const TARGETS_STATUS_TABLE: StatusTableSpec = {
  id: 'scrape_targets',
  title: 'Scrape targets',
  key: ['source', 'target'],
  columns: [
    { key: 'source', label: 'source' },
    { key: 'job', label: 'job' },
    { key: 'target', label: 'target' },
    { key: 'health', label: 'health' },
    { key: 'last_scrape', label: 'last scrape', unit: 'time' },
    { key: 'duration_seconds', label: 'duration', unit: 'seconds' },
    { key: 'samples', label: 'samples', unit: 'count' },
    { key: 'error', label: 'last error' },
  ],
};

export class PrometheusScrapeSource implements Lifecycle, StatusReporter {
  private readonly loops = new Map<string, ScrapeLoop>();
  private readonly jobTargets: JobTargets[] = [];
  /** Stops watching each job's TLS files. */
  private readonly closeClients: (() => void)[] = [];
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly config: PrometheusScrapeSourceConfig,
    private readonly deps: MetricSourceDeps,
  ) {}

  /** The targets being scraped now, for tests and diagnostics. */
  get activeTargets(): ScrapeTarget[] {
    return [...this.loops.values()].map((loop) => loop.target);
  }

  /** The loop of one target (by URL), to scrape on demand in tests. */
  loopFor(url: string): ScrapeLoop | undefined {
    return [...this.loops.values()].find((loop) => loop.target.url === url);
  }

  statusRows(): StatusContribution[] {
    const rows = [...this.loops.values()].map((loop) => loop.statusRow()).sort((a, b) => String(a.target).localeCompare(String(b.target)));
    return [{ table: TARGETS_STATUS_TABLE, rows }];
  }

  async start(): Promise<void> {
    for (const config of this.config.scrape_configs) {
      // TLS files are read here first, so a missing CA fails start-up rather than every scrape; then when they change.
      const client = await loadScrapeClientOptions(config, { logger: this.deps.logger });
      this.closeClients.push(client.close);
      const settings: JobSettings = { config, client, relabel: compileRelabelRules(config.metric_relabel_configs) };
      this.jobTargets.push(new JobTargets(config, (targets) => this.sync(settings, targets), this.deps.logger));
    }
    for (const targets of this.jobTargets) await targets.start();
  }

  private sync(job: JobSettings, targets: readonly ScrapeTarget[]): void {
    if (this.stopped) return;
    const wanted = new Set(targets.map((target) => target.key));
    for (const [key, loop] of this.loops) {
      if (loop.target.job === job.config.job_name && !wanted.has(key)) {
        this.loops.delete(key);
        void loop.stop();
        this.deps.logger.info({ job: job.config.job_name, target: loop.target.url }, 'target removed');
      }
    }
    for (const target of targets) {
      if (this.loops.has(target.key)) continue;
      const loop = new ScrapeLoop(target, job.config, {
        sourceName: this.name,
        host: this.deps.host,
        agentId: this.deps.agentId,
        consumer: this.deps.consumer,
        limits: this.deps.limits,
        client: job.client,
        relabel: job.relabel,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        jitterSeed: this.deps.agentId,
      });
      this.loops.set(target.key, loop);
      loop.start();
      this.deps.logger.info({ job: job.config.job_name, target: target.url, offset_ms: loop.offsetMs }, 'scraping target');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.jobTargets.map((targets) => targets.stop()));
    await Promise.all([...this.loops.values()].map((loop) => loop.stop()));
    this.loops.clear();
    for (const close of this.closeClients.splice(0)) close();
  }
}
