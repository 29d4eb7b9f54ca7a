import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../../shared/paths.js';

/**
 * The npm package as a release builds it, for tests that install it (npm install -g, a container image).
 */

/**
 * The environment a user's shell has: none of the npm_* variables or node_modules/.bin entries that `npm test`
 * adds (so nothing from the dev install can stand in for what the package must bring), with `binDir` first on
 * PATH.
 */
export function userEnvironment(binDir?: string): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.toLowerCase().startsWith('npm_')) environment[name] = value;
  const path = (process.env.PATH ?? '').split(delimiter).filter((entry) => !entry.includes('node_modules'));
  environment.PATH = [...(binDir === undefined ? [] : [binDir]), ...path].join(delimiter);
  return environment;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its exit; `onStart` receives a way to signal it while it runs. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
  onStart?: (signal: (name: NodeJS.Signals) => void) => void,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.((name) => child.kill(name));
  });
}

/** Runs a command that must succeed; its stdout and stderr, or an error carrying them. */
export async function runOrThrow(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(result.code)}\n${result.stdout}\n${result.stderr}`);
  return `${result.stdout}${result.stderr}`;
}

/**
 * `npm pack` of a release checkout into `destination`; returns the tarball's path. The checkout is this one's
 * sources with the dist/ `npm test` built (so the `prepare` build is skipped) and the runtime dependencies
 * exactly as the lockfile pins them, from npm's cache (--offline; --ignore-scripts: packing needs no native
 * build). `npm pack` in a fresh clone after `npm ci` bundles the same tree; packing this checkout directly would
 * not, where node_modules is a symlink (the shared dev install): npm does not bundle through one.
 */
export async function packRelease(destination: string): Promise<string> {
  const checkout = await mkdtemp(join(destination, 'checkout-'));
  try {
    await cp(packageRoot(), checkout, { recursive: true, filter: (source) => !/(^|\/)(node_modules|\.git)$/.test(source) });
    const options = { cwd: checkout, env: userEnvironment() };
    await runOrThrow('npm', ['ci', '--offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], options);
    await runOrThrow('npm', ['pack', '--ignore-scripts', '--pack-destination', destination], options);
  } finally {
    await rm(checkout, { recursive: true, force: true });
  }
  const tarballs = (await readdir(destination)).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`expected one tarball from npm pack in ${destination}, found: ${tarballs.join(', ')}`);
  return join(destination, tarballs[0] ?? '');
}
