#!/usr/bin/env -S node --max-semi-space-size=4
// The flags above must match PROCESS_NODE_FLAGS in node-flags.ts.
import { parseArgs } from 'node:util';
import { Agent } from '../../agent/agent.js';
import { agentConfigSchema } from '../../agent/config.js';
import { Collector } from '../../collector/collector.js';
import { loadRulesFiles } from '../../collector/alerting/rules/config.js';
import { runRulesTests } from '../../collector/alerting/rules/rules-test.js';
import { collectorConfigSchema } from '../../collector/config.js';
import { loadConfigFile } from '../config/load.js';
import { TributaryError } from '../errors.js';
import { createLogger } from '../telemetry/logger.js';
import { runDemo } from './demo.js';
import { installProcessGuards } from './process-guard.js';
import { runUntilSignalled } from './run-process.js';
import { superviseWorkers, workerIndex } from './supervisor.js';
import { validateFile } from './validate.js';

const USAGE = `Usage:
  tributary agent --config agent.yaml        tail files into Kafka
  tributary collector --config collector.yaml [--workers N]  normalize raw topics (N consumer-group members)
  tributary validate --config FILE [--kind agent|collector]   (a collector's rule files too)
  tributary rules check RULES_FILE...        validate alert rule files
  tributary rules test TEST_FILE...          run alert rule unit tests (promtool-style)
  tributary demo                             local Kafka + agent + collector on a generated log
`;

async function rules(args: readonly string[]): Promise<number> {
  const [subcommand, ...files] = args;
  if ((subcommand !== 'test' && subcommand !== 'check') || files.length === 0) {
    process.stderr.write(`tributary rules: expected "check" or "test" and at least one file\n\n${USAGE}`);
    return 2;
  }
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

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'rules') return rules(rest);
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      kind: { type: 'string' },
      workers: { type: 'string', short: 'w' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (command === undefined || command === 'help' || values.help) {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'demo') return runDemo();
  const file = values.config;
  if (!file) {
    process.stderr.write(`tributary ${command}: --config FILE is required\n\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'validate': {
      if (values.kind !== undefined && values.kind !== 'agent' && values.kind !== 'collector') {
        process.stderr.write(`--kind must be agent or collector, got ${values.kind}\n`);
        return 2;
      }
      const result = await validateFile(file, values.kind);
      if (result.ok) {
        process.stdout.write(`${file}: valid ${result.kind} configuration\n`);
        return 0;
      }
      process.stderr.write(`${result.message}\n`);
      return 1;
    }
    case 'agent': {
      const config = await loadConfigFile(agentConfigSchema, file);
      const logger = createLogger('tributary-agent', config.telemetry.log_level);
      const agent = new Agent(config, logger);
      installProcessGuards(agent, logger);
      return runUntilSignalled(agent, logger, config.agent.shutdown_timeout);
    }
    case 'collector': {
      const config = await loadConfigFile(collectorConfigSchema, file);
      const workers = values.workers === undefined ? 1 : Number(values.workers);
      if (!Number.isInteger(workers) || workers < 1) {
        process.stderr.write(`--workers must be a whole number of at least 1, got ${values.workers ?? ''}\n`);
        return 2;
      }
      const logger = createLogger('tributary-collector', config.telemetry.log_level);
      if (workers > 1) return superviseWorkers(workers, ['collector', '--config', file], logger);
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
    default:
      process.stderr.write(`unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Configuration and start-up errors are for people: the message, not a stack.
    process.stderr.write(
      `tributary: ${error instanceof TributaryError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
