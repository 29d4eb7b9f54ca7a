import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandHelp, generalHelp } from '../../cli/command-line.js';
import { packageRoot } from '../../shared/paths.js';
import { runCli } from '../helpers/processes.js';

/** The compiled bin prints what cli/command-line.ts decides, on the right stream and with the right exit status. */
describe('tributary usage (the compiled CLI)', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help and COMMAND --help print help on stdout and exit 0', async () => {
    expect(await runCli(['--help'])).toEqual({ code: 0, stdout: generalHelp(), stderr: '' });
    expect(await runCli(['agent', '--help'])).toEqual({ code: 0, stdout: commandHelp('agent'), stderr: '' });
    expect(await runCli(['rules', 'check', '-h'])).toEqual({ code: 0, stdout: commandHelp('rules check'), stderr: '' });
  });

  it('an unknown command, an unknown flag and a missing flag are usage errors: stderr, exit 2', async () => {
    expect(await runCli(['nosuch'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'tributary: unknown command "nosuch"; commands are: agent, collector, validate, rules, top, tap, demo\nRun `tributary --help` for usage.\n',
    });
    // `top --help` once answered with the general usage and exit 0; now top exists and prints its own help.
    expect(await runCli(['top', '--help'])).toMatchObject({
      code: 0,
      stderr: '',
      stdout: expect.stringContaining('Usage: tributary top --url URL') as unknown,
    });
    expect(await runCli(['validate', '--config', 'x.yaml', '--strict'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'tributary: validate: unknown flag --strict\nRun `tributary validate --help` for usage.\n',
    });
    expect(await runCli(['collector'])).toMatchObject({ code: 2, stderr: expect.stringContaining('collector: --config FILE is required') as unknown });
    expect(await runCli([])).toEqual({ code: 2, stdout: '', stderr: generalHelp() });
  });
});
