import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PROCESS_NODE_FLAGS } from '../../shared/process/node-flags.js';
import { packageRoot } from '../../shared/paths.js';
import { freePort } from '../../shared/test-support/ports.js';
import { waitFor } from './kafka.js';

/** The compiled CLI, exactly as users run it (`npm test` builds first). */
export const CLI = join(packageRoot(), 'dist', 'cli', 'tributary.js');

/** Re-exported so the integration tests keep one import for process plumbing; the helper is shared/test-support/ports.ts. */
export { freePort };

export async function writeYaml(path: string, document: unknown): Promise<string> {
  await writeFile(path, stringify(document));
  return path;
}

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr (its JSON logs). */
  readonly stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Runs `tributary <command> --config <file>` as a separate process. */
export function startCli(command: string, configFile: string, env: NodeJS.ProcessEnv = {}, extraArgs: readonly string[] = []): RunningProcess {
  const child = spawn(process.execPath, [...PROCESS_NODE_FLAGS, CLI, command, '--config', configFile, ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...PROCESS_NODE_FLAGS, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Reads one sample from a Prometheus text exposition: the sum over series whose labels include `labels`. */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).startsWith('{') ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
    if (!Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  if (!found) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`);
  return total;
}

/** Waits until the process answers 200 on /readyz; fails at once, with its logs, if it exits first. */
export async function waitUntilReady(process_: RunningProcess, baseUrl: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const state = { exited: false };
  void process_.exited.then(() => (state.exited = true));
  for (;;) {
    if (state.exited) throw new Error(`process exited with ${String(process_.child.exitCode)} before it was ready:\n${process_.stderr()}`);
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms:\n${process_.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface RunningServer {
  url: string;
  address: string;
  stop(): Promise<void>;
}

/**
 * Starts a server binary on a free port with a fresh temporary directory
 * (`prepare` writes its config there) and waits until `readyPath` answers 2xx;
 * fails at once, with the binary's last output, if it exits first. `stop`
 * terminates it and removes the directory.
 */
export async function startServer(
  binary: string,
  args: (port: number, dir: string) => string[],
  readyPath: string,
  prepare?: (dir: string) => Promise<void>,
): Promise<RunningServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'tributary-server-'));
  await prepare?.(dir);
  const child: ChildProcess = spawn(binary, args(port, dir), { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `${binary} on ${address}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${binary} exited with ${child.exitCode}:\n${output}`);
        const response = await fetch(`${url}${readyPath}`).catch(() => undefined);
        return response?.ok === true ? true : undefined;
      },
      30_000,
      100,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, address, stop };
}
