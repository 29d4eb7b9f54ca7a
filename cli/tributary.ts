#!/usr/bin/env -S node --max-semi-space-size=4
// The flags above must match PROCESS_NODE_FLAGS in shared/process/node-flags.ts.
/**
 * The `tributary` bin: reads the command line (cli/command-line.ts) and hands each command to the tier that
 * owns it. Commands are imported when chosen, so an agent does not load the collector's sinks, a collector
 * does not load the agent's sources, and neither loads the demo's JVM broker launcher from deploy/dev.
 */
import { fileURLToPath } from 'node:url';
import { TributaryError } from '../shared/errors.js';
import { TRIBUTARY_VERSION } from '../shared/version.js';
import { parseCommandLine } from './command-line.js';

async function main(argv: readonly string[]): Promise<number> {
  const commandLine = parseCommandLine(argv, TRIBUTARY_VERSION);
  switch (commandLine.action) {
    case 'print':
      process[commandLine.stream].write(commandLine.text);
      return commandLine.exitCode;
    case 'agent':
      return (await import('../agent/cli.js')).runAgentCommand(commandLine.config);
    case 'collector':
      return (await import('../collector/cli.js')).runCollectorCommand({
        file: commandLine.config,
        workers: commandLine.workers,
        entry: fileURLToPath(import.meta.url),
      });
    case 'validate': {
      const { validateFile } = await import('./validate.js');
      const result = await validateFile(commandLine.config, commandLine.kind);
      if (result.ok) {
        process.stdout.write(`${commandLine.config}: valid ${result.kind} configuration\n`);
        return 0;
      }
      process.stderr.write(`${result.message}\n`);
      return 1;
    }
    case 'rules check':
    case 'rules test':
      return (await import('../collector/cli.js')).runRulesCommand(commandLine.action === 'rules check' ? 'check' : 'test', commandLine.files);
    case 'top':
      return (await import('./top.js')).runTop(commandLine);
    case 'tap':
      return (await import('./tap.js')).runTap(commandLine);
    case 'demo':
      return (await import('../deploy/dev/demo.js')).runDemo();
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
