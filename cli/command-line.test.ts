import { describe, expect, it } from 'vitest';
import { commandHelp, generalHelp, parseCommandLine } from './command-line.js';

const parse = (...argv: string[]) => parseCommandLine(argv, '1.2.3');
const usageError = (message: string, help = 'tributary --help') => ({
  action: 'print',
  stream: 'stderr',
  text: `tributary: ${message}\nRun \`${help}\` for usage.\n`,
  exitCode: 2,
});

describe('parseCommandLine', () => {
  it('runs each command with its flags, long and short', () => {
    expect(parse('agent', '--config', 'a.yaml')).toEqual({ action: 'agent', config: 'a.yaml' });
    expect(parse('agent', '-c', 'a.yaml')).toEqual({ action: 'agent', config: 'a.yaml' });
    expect(parse('agent', '--config=a.yaml')).toEqual({ action: 'agent', config: 'a.yaml' });
    expect(parse('collector', '-c', 'c.yaml', '-w', '3')).toEqual({ action: 'collector', config: 'c.yaml', workers: '3' });
    expect(parse('collector', '--config', 'c.yaml')).toEqual({ action: 'collector', config: 'c.yaml', workers: undefined });
    expect(parse('validate', '--config', 'x.yaml', '--kind', 'collector')).toEqual({ action: 'validate', config: 'x.yaml', kind: 'collector' });
    expect(parse('rules', 'check', 'a.yaml', 'b.yaml')).toEqual({ action: 'rules check', files: ['a.yaml', 'b.yaml'] });
    expect(parse('rules', 'test', 't.yaml')).toEqual({ action: 'rules test', files: ['t.yaml'] });
    expect(parse('demo')).toEqual({ action: 'demo' });
  });

  it('prints the version', () => {
    for (const flag of ['--version', '-V']) expect(parse(flag)).toEqual({ action: 'print', stream: 'stdout', text: '1.2.3\n', exitCode: 0 });
  });

  it('prints the general help on --help and `help` (exit 0), and on no arguments to stderr (exit 2)', () => {
    for (const argv of [['--help'], ['-h'], ['help']]) expect(parse(...argv)).toEqual({ action: 'print', stream: 'stdout', text: generalHelp(), exitCode: 0 });
    expect(parse()).toEqual({ action: 'print', stream: 'stderr', text: generalHelp(), exitCode: 2 });
  });

  it("prints a command's own help for `COMMAND --help`, `COMMAND -h` and `help COMMAND`, even beside other flags", () => {
    for (const argv of [
      ['collector', '--help'],
      ['collector', '-h'],
      ['help', 'collector'],
      ['collector', '--config', 'c.yaml', '--help'],
    ])
      expect(parse(...argv)).toEqual({ action: 'print', stream: 'stdout', text: commandHelp('collector'), exitCode: 0 });
    expect(parse('rules', 'test', '--help')).toEqual({ action: 'print', stream: 'stdout', text: commandHelp('rules test'), exitCode: 0 });
    const rulesHelp = `${commandHelp('rules check')}\n${commandHelp('rules test')}`;
    for (const argv of [
      ['rules', '--help'],
      ['help', 'rules'],
    ])
      expect(parse(...argv)).toEqual({ action: 'print', stream: 'stdout', text: rulesHelp, exitCode: 0 });
    expect(parse('rules')).toEqual({ action: 'print', stream: 'stderr', text: rulesHelp, exitCode: 2 });
  });

  it('names an unknown command, before looking at its flags', () => {
    const unknown = usageError('unknown command "nosuch"; commands are: agent, collector, validate, rules, top, tap, demo');
    expect(parse('nosuch')).toEqual(unknown);
    expect(parse('nosuch', '--config', 'a.yaml')).toEqual(unknown);
    expect(parse('help', 'nosuch')).toEqual(unknown);
    expect(parse('rules', 'lint', 'a.yaml')).toEqual(usageError('unknown rules subcommand "lint"; expected check or test', 'tributary rules --help'));
    expect(parse('--config', 'a.yaml')).toEqual(usageError('expected a command before --config'));
  });

  it('names an unknown flag as typed, and a flag of another command', () => {
    expect(parse('agent', '--config', 'a.yaml', '--verbose')).toEqual(usageError('agent: unknown flag --verbose', 'tributary agent --help'));
    expect(parse('agent', '-x')).toEqual(usageError('agent: unknown flag -x', 'tributary agent --help'));
    expect(parse('agent', '--config', 'a.yaml', '--workers', '2')).toEqual(usageError('agent: unknown flag --workers', 'tributary agent --help'));
    expect(parse('demo', '--config', 'a.yaml')).toEqual(usageError('demo: unknown flag --config', 'tributary demo --help'));
  });

  it('names a missing required flag, a flag without its value, a value on a switch and a stray argument', () => {
    expect(parse('agent')).toEqual(usageError('agent: --config FILE is required', 'tributary agent --help'));
    expect(parse('agent', '--config')).toEqual(usageError('agent: --config needs a value', 'tributary agent --help'));
    expect(parse('validate', '--config', 'x.yaml', '--help=yes')).toEqual(usageError('validate: --help takes no value', 'tributary validate --help'));
    expect(parse('agent', '--config', 'a.yaml', 'b.yaml')).toEqual(usageError('agent: unexpected argument "b.yaml"', 'tributary agent --help'));
    expect(parse('rules', 'check')).toEqual(usageError('rules check: expected at least one RULES_FILE...', 'tributary rules check --help'));
    expect(parse('validate', '--config', 'x.yaml', '--kind', 'sink')).toEqual(
      usageError('validate: --kind must be agent or collector, got "sink"', 'tributary validate --help'),
    );
  });

  it('documents every command in the general help and every flag in the command help', () => {
    expect(generalHelp()).toMatch(/^Usage: tributary COMMAND \[FLAGS\]\n/);
    for (const command of ['agent', 'collector', 'validate', 'rules check', 'rules test', 'demo']) expect(generalHelp()).toContain(`\n  ${command} `);
    expect(commandHelp('collector')).toBe(
      [
        'Usage: tributary collector --config FILE [--workers N]',
        '',
        'Normalize the raw topics, alert, and write the sinks.',
        '',
        'Flags:',
        '  -c, --config FILE  the YAML configuration file (required)',
        '  -w, --workers N    run N consumer-group members as child processes (default 1)',
        '  -h, --help         print this help and exit',
        '',
        'Runs until SIGTERM or SIGINT, then drains: finishes the step in progress, commits, leaves the group.',
        '',
      ].join('\n'),
    );
    expect(commandHelp('validate')).toContain('      --kind agent|collector  the kind of file');
    expect(commandHelp('rules check')).toContain('Usage: tributary rules check RULES_FILE...\n');
  });

  it('reads top: repeated --url in order, the interval in seconds, --once, and the connection flags', () => {
    const none = { caFile: undefined, bearerTokenFile: undefined, username: undefined, passwordFile: undefined };
    expect(parse('top', '--url', 'http://a:9464', '--url', 'b:9464')).toEqual({
      action: 'top',
      urls: ['http://a:9464', 'b:9464'],
      intervalMs: 2000,
      once: false,
      connection: none,
    });
    expect(parse('top', '--url', 'https://a', '--interval', '0.5', '--once', '--ca-file', 'ca.pem', '--bearer-token-file', 't')).toEqual({
      action: 'top',
      urls: ['https://a'],
      intervalMs: 500,
      once: true,
      connection: { ...none, caFile: 'ca.pem', bearerTokenFile: 't' },
    });
    expect(parse('top')).toEqual(usageError('top: --url URL is required', 'tributary top --help'));
    expect(parse('top', '--url', 'a', '--interval', 'soon')).toEqual(
      usageError('top: --interval must be a number from 0.2 to 3600, got "soon"', 'tributary top --help'),
    );
    expect(parse('top', '--help')).toEqual({ action: 'print', stream: 'stdout', text: commandHelp('top'), exitCode: 0 });
  });

  it('reads tap: --output ID is --point output.ID, one of them exactly, limits within range', () => {
    const none = { caFile: undefined, bearerTokenFile: undefined, username: undefined, passwordFile: undefined };
    expect(parse('tap', '--url', 'u', '--output', 'es')).toEqual({ action: 'tap', url: 'u', point: 'output.es', limit: 10, seconds: 30, connection: none });
    expect(parse('tap', '--url', 'u', '--point', 'source.app', '--limit', '1000', '--seconds', '300', '--username', 'ops', '--password-file', 'p')).toEqual({
      action: 'tap',
      url: 'u',
      point: 'source.app',
      limit: 1000,
      seconds: 300,
      connection: { ...none, username: 'ops', passwordFile: 'p' },
    });
    const help = 'tributary tap --help';
    expect(parse('tap', '--url', 'u')).toEqual(usageError('tap: give exactly one of --output ID or --point POINT', help));
    expect(parse('tap', '--url', 'u', '--output', 'es', '--point', 'processed')).toEqual(
      usageError('tap: give exactly one of --output ID or --point POINT', help),
    );
    expect(parse('tap', '--url', 'u', '--output', 'es', '--limit', '1.5')).toEqual(
      usageError('tap: --limit must be an integer from 1 to 1000, got "1.5"', help),
    );
    expect(parse('tap', '--url', 'u', '--url', 'v', '--output', 'es')).toEqual(usageError('tap: --url given twice', help));
  });
});
