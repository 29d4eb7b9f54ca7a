/**
 * The `tributary` command line as data: every command, its flags and arguments, and the help printed from
 * them, so a flag cannot exist without being documented. `parseCommandLine` is pure (no I/O, no exit) so each
 * answer is unit-tested; cli/tributary.ts prints what it returns and runs the chosen command.
 */
import { parseArgs } from 'node:util';

interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The placeholder shown in help for a string flag's value. */
  readonly value?: string;
  readonly required?: boolean;
  readonly description: string;
}

interface CommandSpec {
  /** As typed: `rules check` is two words. */
  readonly name: string;
  readonly summary: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Files named after the flags: none, or at least one. */
  readonly files?: { readonly placeholder: string; readonly description: string };
  /** Lines after the flags: what the command does beyond its flags. */
  readonly details?: readonly string[];
}

const CONFIG_FLAG: FlagSpec = { type: 'string', short: 'c', value: 'FILE', required: true, description: 'the YAML configuration file' };
const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', description: 'print this help and exit' };

const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'agent',
    summary: 'tail files, collect host metrics and scrape exporters into Kafka',
    flags: { config: CONFIG_FLAG, help: HELP_FLAG },
    details: ['Runs until SIGTERM or SIGINT, then drains: flushes frames, waits for Kafka, writes checkpoints.'],
  },
  {
    name: 'collector',
    summary: 'normalize the raw topics, alert, and write the sinks',
    flags: {
      config: CONFIG_FLAG,
      workers: { type: 'string', short: 'w', value: 'N', description: 'run N consumer-group members as child processes (default 1)' },
      help: HELP_FLAG,
    },
    details: ['Runs until SIGTERM or SIGINT, then drains: finishes the step in progress, commits, leaves the group.'],
  },
  {
    name: 'validate',
    summary: "check a configuration file (a collector's rule files too) without starting anything",
    flags: {
      config: CONFIG_FLAG,
      kind: { type: 'string', value: 'agent|collector', description: 'the kind of file (default: guessed from its top-level keys)' },
      help: HELP_FLAG,
    },
    details: ['Exit status 0 when valid, 1 with every problem (file, key path, what was expected) when not.'],
  },
  {
    name: 'rules check',
    summary: 'validate alert rule files',
    flags: { help: HELP_FLAG },
    files: { placeholder: 'RULES_FILE...', description: 'Prometheus-style rule files' },
  },
  {
    name: 'rules test',
    summary: 'run alert rule unit tests (promtool test rules format)',
    flags: { help: HELP_FLAG },
    files: { placeholder: 'TEST_FILE...', description: 'rule test files' },
  },
  {
    name: 'demo',
    summary: 'a local Kafka, an agent and a collector on a generated log, until Ctrl-C',
    flags: { help: HELP_FLAG },
    details: ['Needs Java 17 and Maven: the broker is started from Maven Central jars.'],
  },
];

/** What the bin does with the command line. */
export type CommandLine =
  | { readonly action: 'print'; readonly stream: 'stdout' | 'stderr'; readonly text: string; readonly exitCode: number }
  | { readonly action: 'agent'; readonly config: string }
  | { readonly action: 'collector'; readonly config: string; readonly workers: string | undefined }
  | { readonly action: 'validate'; readonly config: string; readonly kind: 'agent' | 'collector' | undefined }
  | { readonly action: 'rules check' | 'rules test'; readonly files: readonly string[] }
  | { readonly action: 'demo' };

function usageLine(command: CommandSpec): string {
  const flags = Object.entries(command.flags)
    .filter(([name]) => name !== 'help')
    .map(([name, flag]) => {
      const text = flag.type === 'string' ? `--${name} ${flag.value ?? 'VALUE'}` : `--${name}`;
      return flag.required === true ? text : `[${text}]`;
    });
  return ['tributary', command.name, ...flags, ...(command.files ? [command.files.placeholder] : [])].join(' ');
}

/** `tributary --help`: every command with its summary. */
export function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'Usage: tributary COMMAND [FLAGS]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Flags:',
    "  -h, --help     print this help, or a command's with `tributary COMMAND --help`",
    '  -V, --version  print the version',
    '',
    "Run `tributary COMMAND --help` for a command's flags.",
    '',
  ].join('\n');
}

/** `tributary COMMAND --help`: the usage line, every flag and the files it takes. */
export function commandHelp(name: string): string {
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) throw new Error(`no command ${name}`);
  const rows: Array<readonly [string, string]> = Object.entries(command.flags).map(([flagName, flag]) => {
    const short = flag.short === undefined ? '    ' : `-${flag.short}, `;
    const value = flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : '';
    return [`  ${short}--${flagName}${value}`, `${flag.description}${flag.required === true ? ' (required)' : ''}`];
  });
  if (command.files) rows.unshift([`  ${command.files.placeholder}`, `${command.files.description} (at least one)`]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: ${usageLine(command)}`,
    '',
    `${command.summary[0]?.toUpperCase() ?? ''}${command.summary.slice(1)}.`,
    '',
    command.files ? 'Arguments and flags:' : 'Flags:',
    ...rows.map(([left, right]) => `${left.padEnd(width)}  ${right}`),
    ...(command.details ? ['', ...command.details] : []),
    '',
  ].join('\n');
}

function usageError(message: string, helpCommand?: string): CommandLine {
  const hint = helpCommand === undefined ? 'tributary --help' : `tributary ${helpCommand} --help`;
  return { action: 'print', stream: 'stderr', text: `tributary: ${message}\nRun \`${hint}\` for usage.\n`, exitCode: 2 };
}

const COMMAND_NAMES = [...new Set(COMMANDS.map((command) => command.name.split(' ')[0] ?? ''))];

/** Which command `argv` names, and the arguments after its name; a usage error when it names none. */
function findCommand(argv: readonly string[]): { command: CommandSpec; rest: readonly string[] } | CommandLine {
  const [first, second, ...afterTwo] = argv;
  if (first === 'rules') {
    const command = COMMANDS.find((candidate) => candidate.name === `rules ${second ?? ''}`);
    if (command !== undefined) return { command, rest: afterTwo };
    if (second === undefined || second === '--help' || second === '-h')
      return { action: 'print', stream: second === undefined ? 'stderr' : 'stdout', text: rulesHelp(), exitCode: second === undefined ? 2 : 0 };
    return usageError(`unknown rules subcommand "${second}"; expected check or test`, 'rules');
  }
  const command = COMMANDS.find((candidate) => candidate.name === first);
  if (command === undefined) return usageError(`unknown command "${first ?? ''}"; commands are: ${COMMAND_NAMES.join(', ')}`);
  return { command, rest: argv.slice(1) };
}

function rulesHelp(): string {
  return [commandHelp('rules check'), commandHelp('rules test')].join('\n');
}

/** Reads the command line the way the bin does. `version` is printed for --version. */
export function parseCommandLine(argv: readonly string[], version: string): CommandLine {
  const [first, second] = argv;
  if (first === undefined) return { action: 'print', stream: 'stderr', text: generalHelp(), exitCode: 2 };
  if (first === '--help' || first === '-h') return { action: 'print', stream: 'stdout', text: generalHelp(), exitCode: 0 };
  if (first === '--version' || first === '-V') return { action: 'print', stream: 'stdout', text: `${version}\n`, exitCode: 0 };
  if (first === 'help') {
    if (second === undefined) return { action: 'print', stream: 'stdout', text: generalHelp(), exitCode: 0 };
    if (second === 'rules' && argv.length === 2) return { action: 'print', stream: 'stdout', text: rulesHelp(), exitCode: 0 };
    const found = findCommand(argv.slice(1));
    return 'action' in found ? found : { action: 'print', stream: 'stdout', text: commandHelp(found.command.name), exitCode: 0 };
  }
  if (first.startsWith('-')) return usageError(`expected a command before ${first}`);

  const found = findCommand(argv);
  if ('action' in found) return found;
  const { command, rest } = found;

  // Tokens rather than strict mode, so every mistake names the flag as typed and the command's help.
  const { tokens } = parseArgs({ args: [...rest], options: command.flags, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string | true>();
  const files: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (command.files === undefined) return usageError(`${command.name}: unexpected argument "${token.value}"`, command.name);
      files.push(token.value);
    } else if (token.kind === 'option') {
      const flag = command.flags[token.name];
      if (flag === undefined) return usageError(`${command.name}: unknown flag ${token.rawName}`, command.name);
      if (flag.type === 'string' && token.value === undefined) return usageError(`${command.name}: ${token.rawName} needs a value`, command.name);
      if (flag.type === 'boolean' && token.value !== undefined) return usageError(`${command.name}: ${token.rawName} takes no value`, command.name);
      values.set(token.name, token.value ?? true);
    }
  }
  if (values.has('help')) return { action: 'print', stream: 'stdout', text: commandHelp(command.name), exitCode: 0 };
  for (const [name, flag] of Object.entries(command.flags))
    if (flag.required === true && !values.has(name)) return usageError(`${command.name}: --${name} ${flag.value ?? 'VALUE'} is required`, command.name);
  if (command.files !== undefined && files.length === 0) return usageError(`${command.name}: expected at least one ${command.files.placeholder}`, command.name);

  const text = (name: string): string | undefined => {
    const value = values.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  switch (command.name) {
    case 'agent':
      return { action: 'agent', config: text('config') ?? '' };
    case 'collector':
      return { action: 'collector', config: text('config') ?? '', workers: text('workers') };
    case 'validate': {
      const kind = text('kind');
      if (kind !== undefined && kind !== 'agent' && kind !== 'collector')
        return usageError(`validate: --kind must be agent or collector, got "${kind}"`, 'validate');
      return { action: 'validate', config: text('config') ?? '', kind };
    }
    case 'rules check':
    case 'rules test':
      return { action: command.name, files };
    default:
      return { action: 'demo' };
  }
}
