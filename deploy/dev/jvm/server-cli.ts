/**
 * The shape every dev-server CLI shares: parse `--name value` options (and
 * `--flag` switches), start the server, print its ready line(s) on stdout once
 * it serves requests (so a script can `read` the first or `eval` them all),
 * send everything else to stderr, and on
 * SIGINT/SIGTERM stop the server, remove its temp dir and exit 0.
 * Exit codes: 0 stopped on a signal or --help, 1 the start failed, 2 bad usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What a CLI needs of a started server's handle. */
export interface DevServer {
  readonly version: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface DevServerCli<Name extends string, Options, Server extends DevServer> {
  /** 'Kafka', 'OpenSearch': in progress lines; lower-cased, the tag of the server's log lines on stderr. */
  name: string;
  usage: string;
  /** The `--name value` options (all string-valued); --help/-h comes on top. */
  options: readonly Name[];
  /** `--name` switches without a value; given ones arrive in parse() as the value 'true'. */
  flags?: readonly Name[];
  /** The launcher's options from the given values; throws a message for the user on a bad value. */
  parse: (values: Partial<Record<Name, string>>) => Options;
  /** What is starting, for the progress line: 'Kafka 4.4.0'. */
  describe: (options: Options) => string;
  start: (options: Options, onLog: (line: string) => void) => Promise<Server>;
  /**
   * The stdout line, without newline: 'KAFKA_BROKERS=127.0.0.1:9092'. Several lines (joined by '\n') only
   * behind a flag that asks for more, so scripts reading the first line keep working.
   */
  readyLine: (server: Server) => string;
}

/** Runs the CLI and exits the process with its code. */
export function runDevServerCli<Name extends string, Options, Server extends DevServer>(cli: DevServerCli<Name, Options, Server>): void {
  main(cli).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

/** An integer option in [min, max], or undefined when not given. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return parsed;
}

async function main<Name extends string, Options, Server extends DevServer>(cli: DevServerCli<Name, Options, Server>): Promise<number> {
  let options: Options;
  try {
    const config: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
    for (const name of cli.options) config[name] = { type: 'string' };
    for (const name of cli.flags ?? []) config[name] = { type: 'boolean' };
    const { values } = parseArgs({ options: config, strict: true, allowPositionals: false });
    if (values.help === true) {
      process.stdout.write(`${cli.usage}\n`);
      return 0;
    }
    const given: Partial<Record<Name, string>> = {};
    for (const name of cli.options) {
      const value = values[name];
      if (typeof value === 'string') given[name] = value;
    }
    for (const name of cli.flags ?? []) if (values[name] === true) given[name] = 'true';
    options = cli.parse(given);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${cli.usage}\n`);
    return 2;
  }

  // Signals that arrive while the server is still starting must not leave a
  // JVM behind: remember them and stop right after the start settles.
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => stopRequested?.());
  }

  const tag = cli.name.toLowerCase();
  const started = Date.now();
  process.stderr.write(`starting ${cli.describe(options)}...\n`);
  const server = await cli.start(options, (line) => process.stderr.write(`[${tag}] ${line}\n`));
  process.stderr.write(`${cli.name} ${server.version} ready in ${Date.now() - started} ms (data: ${server.dataDir})\n`);
  process.stdout.write(`${cli.readyLine(server)}\n`);

  await stopSignal;
  process.stderr.write(`stopping ${cli.name}...\n`);
  await server.stop();
  return 0;
}
