import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../shared/paths.js';
import { bodiesInTopic } from '../helpers/agent-run.js';
import { brokers, uniqueName, waitFor } from '../helpers/kafka.js';
import { packRelease, runCommand, runOrThrow, userEnvironment, type CommandResult } from '../helpers/package.js';
import { writeYaml } from '../helpers/processes.js';

/**
 * The package as users get it: `npm pack`, then `npm install -g` of the tarball into a fresh prefix, then the
 * `tributary` that npm put on PATH. Offline: the tarball bundles its runtime dependencies (package.json
 * `bundleDependencies`), so the install needs no registry, and it must not need the TypeScript compiler
 * (npm never runs a tarball's `prepare`). The native zstd binding is compiled by its install script, from
 * the C sources it ships, and the agent's frames prove it loads.
 */
const root = packageRoot();
let work = '';
let prefix: string;
let installOutput: string;

/** Runs a command as a user's shell would, with the installed prefix's bin/ on PATH. */
function run(command: string, args: readonly string[], cwd: string, onStart?: (signal: (name: NodeJS.Signals) => void) => void): Promise<CommandResult> {
  return runCommand(command, args, { cwd, env: userEnvironment(join(prefix, 'bin')) }, onStart);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tributary-package-'));
  prefix = join(work, 'prefix');
  const tarball = await packRelease(work);
  installOutput = await runOrThrow('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], {
    cwd: work,
    env: userEnvironment(),
  });
}, 600_000);

afterAll(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

describe('the npm package installed with npm install -g', () => {
  it('puts tributary on PATH, with every runtime dependency bundled and the zstd binding built', async () => {
    expect(installOutput).toMatch(/added 1 package/);
    const installed = join(prefix, 'lib', 'node_modules', 'tributary');
    // `npm ls` exits non-zero on a missing or invalid dependency.
    await runOrThrow('npm', ['ls', '--omit=dev', '--all'], { cwd: installed, env: userEnvironment() });
    await expect(readdir(join(installed, 'node_modules', 'zstd-napi', 'build', 'Release'))).resolves.toContain('binding.node');
    // Sources, tests and the lockfile stay out of the package.
    const shipped = await readdir(join(installed, 'deploy', 'dev', 'kafka'));
    expect(shipped.filter((name) => name.endsWith('.ts'))).toEqual([]);
    const result = await run('tributary', ['--version'], work);
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('validates the example configurations it ships', async () => {
    const examples = join(prefix, 'lib', 'node_modules', 'tributary', 'deploy', 'examples');
    for (const [name, kind] of [
      ['agent.yaml', 'agent'],
      ['collector.yaml', 'collector'],
    ] as const) {
      const result = await run('tributary', ['validate', '--config', join(examples, name)], work);
      expect(result).toMatchObject({ code: 0, stdout: `${join(examples, name)}: valid ${kind} configuration\n`, stderr: '' });
    }
  });

  it('runs an agent that ships a line to Kafka, and drains on SIGTERM', async () => {
    const topic = uniqueName('package-install');
    const logs = join(work, 'logs');
    await mkdir(logs);
    const line = `2026-12-07T19:00:00.000Z shipped by the installed package ${topic}`;
    await writeFile(join(logs, 'app.log'), `${line}\n`);
    const config = await writeYaml(join(work, 'agent.yaml'), {
      agent: { id: 'package-install', data_dir: join(work, 'data'), shutdown_timeout: '10s' },
      kafka: { brokers: brokers() },
      sources: { app: { type: 'file', include: [join(logs, '*.log')], poll_interval: '100ms' } },
      output: { topic },
      telemetry: { port: 0 },
    });
    let stop: ((signal: NodeJS.Signals) => void) | undefined;
    const agent = run('tributary', ['agent', '--config', config], work, (kill) => (stop = kill));
    try {
      const bodies = await waitFor(
        'the line in Kafka',
        async () => {
          const found = await bodiesInTopic(topic).catch(() => []);
          return found.length > 0 ? found : undefined;
        },
        90_000,
        500,
      );
      expect(bodies).toEqual([line]);
    } finally {
      stop?.('SIGTERM');
    }
    const result = await agent;
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stderr).toMatch(/"msg":"agent stopped"/);
  });
});
