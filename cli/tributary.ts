#!/usr/bin/env -S node --max-semi-space-size=4
// The flags above must match PROCESS_NODE_FLAGS in shared/process/node-flags.ts.
/**
 * The `tributary` bin: parses the command line and hands each command to the
 * tier that owns it. Commands are imported when chosen, so an agent does not
 * load the collector's sinks, a collector does not load the agent's sources,
 * and neither loads the demo's JVM broker launcher from deploy/dev.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TributaryError } from '../shared/errors.js';

const USAGE = `Usage:
  tributary agent --config agent.yaml        tail files into Kafka
  tributary collector --config collector.yaml [--workers N]  normalize raw topics (N consumer-group members)
  tributary validate --config FILE [--kind agent|collector]   (a collector's rule files too)
  tributary rules check RULES_FILE...        validate alert rule files
  tributary rules test TEST_FILE...          run alert rule unit tests (promtool-style)
  tributary demo                             local Kafka + agent + collector on a generated log
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'rules') return (await import('../collector/cli.js')).runRulesCommand(rest, USAGE);
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
  if (command === 'demo') return (await import('../deploy/dev/demo.js')).runDemo();
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
      const { validateFile } = await import('./validate.js');
      const result = await validateFile(file, values.kind);
      if (result.ok) {
        process.stdout.write(`${file}: valid ${result.kind} configuration\n`);
        return 0;
      }
      process.stderr.write(`${result.message}\n`);
      return 1;
    }
    case 'agent':
      return (await import('../agent/cli.js')).runAgentCommand(file);
    case 'collector':
      return (await import('../collector/cli.js')).runCollectorCommand({ file, workers: values.workers, entry: fileURLToPath(import.meta.url) });
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
