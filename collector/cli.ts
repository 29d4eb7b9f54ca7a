import { loadConfigFile, validateConfig } from '../shared/config/load.js';
import { TributaryError } from '../shared/errors.js';
import { installProcessGuards } from '../shared/process/process-guard.js';
import { runUntilSignalled } from '../shared/process/run-process.js';
import { createLogger } from '../shared/telemetry/logger.js';
import { loadRulesFiles } from './alerting/rules/config.js';
import { runRulesTests } from './alerting/rules/rules-test.js';
import { Collector } from './collector.js';
import { collectorConfigSchema } from './config.js';
import { superviseWorkers, workerIndex } from './workers.js';

export interface CollectorCommandOptions {
  readonly file: string;
  /** `--workers` as typed; validated here so the config is checked first, as before. */
  readonly workers: string | undefined;
  /** The script a worker process runs: the dispatcher that started this one. */
  readonly entry: string;
}

/** `tributary collector --config FILE [--workers N]`: one collector, or N workers under a supervisor. */
export async function runCollectorCommand({ file, workers: workersText, entry }: CollectorCommandOptions): Promise<number> {
  const config = await loadConfigFile(collectorConfigSchema, file);
  const workers = workersText === undefined ? 1 : Number(workersText);
  if (!Number.isInteger(workers) || workers < 1) {
    process.stderr.write(`--workers must be a whole number of at least 1, got ${workersText ?? ''}\n`);
    return 2;
  }
  const logger = createLogger('tributary-collector', config.telemetry.log_level);
  if (workers > 1) return superviseWorkers(workers, entry, ['collector', '--config', file], logger);
  const index = workerIndex();
  if (index !== undefined) {
    // Under a supervisor: one metrics port and one client id per worker.
    if (config.telemetry.port !== 0) config.telemetry.port += index;
    config.collector.instance_name = `${config.collector.instance_name}-w${index}`;
  }
  const collector = new Collector(config, logger);
  installProcessGuards(collector, logger);
  return runUntilSignalled(collector, logger, config.collector.shutdown_timeout);
}

/** `tributary rules check|test FILE...` (the command line is checked by cli/command-line.ts): exit 1 when any file fails. */
export async function runRulesCommand(subcommand: 'check' | 'test', files: readonly string[]): Promise<number> {
  let failed = 0;
  for (const file of files) {
    try {
      if (subcommand === 'check') {
        const loaded = await loadRulesFiles([file]);
        process.stdout.write(`${file}: ${loaded.groups.reduce((count, group) => count + group.rules.length, 0)} rules valid\n`);
      } else {
        const result = await runRulesTests(file);
        (result.ok ? process.stdout : process.stderr).write(`${result.report}\n`);
        if (!result.ok) failed++;
      }
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      process.stderr.write(`${error.message}\n`);
      failed++;
    }
  }
  return failed === 0 ? 0 : 1;
}

/** What `tributary validate` checks of a collector config: the schema, and its rule files, which a collector would refuse to start with. */
export async function validateCollectorDocument(document: unknown, file: string): Promise<void> {
  const config = validateConfig(collectorConfigSchema, document, file);
  if (config.alerting !== undefined) await loadRulesFiles(config.alerting.rules_files);
}
