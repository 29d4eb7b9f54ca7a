import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../shared/paths.js';
import { bodiesInTopic } from '../helpers/agent-run.js';
import { brokers, uniqueName, waitFor } from '../helpers/kafka.js';
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

/** The environment a user's shell has: none of the npm_* variables or node_modules/.bin that `npm test` adds. */
function userEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.toLowerCase().startsWith('npm_')) environment[name] = value;
  const path = (process.env.PATH ?? '').split(delimiter).filter((entry) => !entry.includes('node_modules'));
  environment.PATH = [join(prefix, 'bin'), ...path].join(delimiter);
  return environment;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, onStart?: (stop: (signal: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: userEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.((signal) => child.kill(signal));
  });
}

async function succeed(command: string, args: readonly string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(result.code)}\n${result.stdout}\n${result.stderr}`);
  return `${result.stdout}${result.stderr}`;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tributary-package-'));
  prefix = join(work, 'prefix');
  // A release checkout: the sources with the dist/ `npm test` built, and the runtime dependencies exactly as the
  // lockfile pins them (from npm's cache; --ignore-scripts: packing needs no native build). `npm pack` in a
  // fresh clone after `npm ci` bundles the same tree; here the shared node_modules is a symlink, which npm
  // does not bundle.
  const checkout = join(work, 'checkout');
  await cp(root, checkout, { recursive: true, filter: (source) => !/(^|\/)(node_modules|\.git)$/.test(source) });
  await succeed('npm', ['ci', '--offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], checkout);
  // dist/ is built already (the suite's build step), so the `prepare` build is skipped here.
  await succeed('npm', ['pack', '--ignore-scripts', '--pack-destination', work], checkout);
  const [tarball] = (await readdir(work)).filter((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball in ${work}`);
  await rm(checkout, { recursive: true, force: true });
  installOutput = await succeed('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', join(work, tarball)], work);
}, 600_000);

afterAll(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

describe('the npm package installed with npm install -g', () => {
  it('puts tributary on PATH, with every runtime dependency bundled and the zstd binding built', async () => {
    expect(installOutput).toMatch(/added 1 package/);
    const installed = join(prefix, 'lib', 'node_modules', 'tributary');
    // `npm ls` exits non-zero on a missing or invalid dependency.
    await succeed('npm', ['ls', '--omit=dev', '--all'], installed);
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
