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
  /** May be given more than once (`--url a --url b`); the values are kept in order. */
  readonly multiple?: boolean;
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

/** How `top` and `tap` reach a telemetry endpoint served with `telemetry.tls` and `telemetry.auth`. */
const CONNECTION_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'ca-file': { type: 'string', value: 'FILE', description: 'trust this CA (PEM) for an https URL' },
  'bearer-token-file': { type: 'string', value: 'FILE', description: "send the token in FILE (telemetry.auth's bearer token)" },
  username: { type: 'string', value: 'USER', description: 'basic-auth user (with --password-file)' },
  'password-file': { type: 'string', value: 'FILE', description: 'basic-auth password, read from FILE' },
};

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
    name: 'top',
    summary: 'live status of running agents and collectors in the terminal',
    flags: {
      url: {
        type: 'string',
        value: 'URL',
        required: true,
        multiple: true,
        description: "a process's telemetry endpoint, e.g. http://host:9464 (repeat for more)",
      },
      interval: { type: 'string', value: 'SECONDS', description: 'seconds between refreshes (default 2)' },
      once: { type: 'boolean', description: 'print one snapshot and exit (also when stdout is not a terminal)' },
      ...CONNECTION_FLAGS,
      help: HELP_FLAG,
    },
    details: [
      'Shows what /status shows: files with read and acknowledged offsets, scrape targets, outputs, partitions with',
      'lag, step timings, alerts, and every counter with its rate. Exit status 1 when a process cannot be read (--once).',
    ],
  },
  {
    name: 'tap',
    summary: 'print records passing a point of a running process (needs telemetry.tap: true)',
    flags: {
      url: { type: 'string', value: 'URL', required: true, description: "the process's telemetry endpoint" },
      output: { type: 'string', value: 'ID', description: 'records routed to collector output ID (same as --point output.ID)' },
      point: { type: 'string', value: 'POINT', description: 'source.NAME (agent); processed, output.ID or dead_letter (collector)' },
      limit: { type: 'string', value: 'N', description: 'stop after N records (default 10, at most 1000)' },
      seconds: { type: 'string', value: 'S', description: 'stop after S seconds (default 30, at most 300)' },
      ...CONNECTION_FLAGS,
      help: HELP_FLAG,
    },
    details: [
      'One JSON document per line on stdout, as the records pass; a count on stderr at the end. Nothing is consumed',
      'or committed: the process copies records it already has, off its hot path; an unknown point lists the valid ones.',
    ],
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
  | { readonly action: 'top'; readonly urls: readonly string[]; readonly intervalMs: number; readonly once: boolean; readonly connection: Connection }
  | {
      readonly action: 'tap';
      readonly url: string;
      readonly point: string;
      readonly limit: number;
      readonly seconds: number;
      readonly connection: Connection;
    }
  | { readonly action: 'demo' };

interface Connection {
  readonly caFile: string | undefined;
  readonly bearerTokenFile: string | undefined;
  readonly username: string | undefined;
  readonly passwordFile: string | undefined;
}

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
  const lists = new Map<string, string[]>();
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
      if (flag.multiple !== true && values.has(token.name)) return usageError(`${command.name}: ${token.rawName} given twice`, command.name);
      values.set(token.name, token.value ?? true);
      if (token.value !== undefined) lists.set(token.name, [...(lists.get(token.name) ?? []), token.value]);
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
  const connection = (): Connection => ({
    caFile: text('ca-file'),
    bearerTokenFile: text('bearer-token-file'),
    username: text('username'),
    passwordFile: text('password-file'),
  });
  const number = (value: string, flag: string, min: number, max: number, integer = false): number | CommandLine => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed)))
      return usageError(`${command.name}: ${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${value}"`, command.name);
    return parsed;
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
    case 'top': {
      const interval = number(text('interval') ?? '2', '--interval', 0.2, 3600);
      if (typeof interval !== 'number') return interval;
      return { action: 'top', urls: lists.get('url') ?? [], intervalMs: Math.round(interval * 1000), once: values.has('once'), connection: connection() };
    }
    case 'tap': {
      const output = text('output');
      const point = text('point');
      if ((output === undefined) === (point === undefined)) return usageError('tap: give exactly one of --output ID or --point POINT', 'tap');
      const limit = number(text('limit') ?? '10', '--limit', 1, 1000, true);
      if (typeof limit !== 'number') return limit;
      const seconds = number(text('seconds') ?? '30', '--seconds', 1, 300);
      if (typeof seconds !== 'number') return seconds;
      return { action: 'tap', url: text('url') ?? '', point: point ?? `output.${output ?? ''}`, limit, seconds, connection: connection() };
    }
    default:
      return { action: 'demo' };
  }
}
