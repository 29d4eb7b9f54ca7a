import { fork, type ChildProcess } from 'node:child_process';
import { PROCESS_NODE_FLAGS } from '../shared/process/node-flags.js';
import type { Logger } from '../shared/telemetry/logger.js';

export const WORKER_INDEX_ENV = 'TRIBUTARY_WORKER_INDEX';
const RESTART_DELAY_MS = 1_000;

/**
 * `tributary collector --workers N`: N collector processes, each its own
 * consumer-group member, so a host uses its cores and a crash of one worker
 * costs only a rebalance. The supervisor restarts a worker that dies, forwards
 * SIGTERM/SIGINT so every worker drains (finishes its step, commits, leaves
 * the group), and exits 0 only if all of them did.
 *
 * `entry` is the script each worker runs with `argv`: the dispatcher passes its
 * own path, so the collector does not need to know where the bin lives.
 */
export async function superviseWorkers(workers: number, entry: string, argv: readonly string[], logger: Logger): Promise<number> {
  const children = new Map<number, ChildProcess>();
  let stopping = false;
  const exitCodes: number[] = [];

  const start = (index: number) => {
    const child = fork(entry, argv, {
      execArgv: [...PROCESS_NODE_FLAGS],
      env: { ...process.env, [WORKER_INDEX_ENV]: String(index) },
      stdio: 'inherit',
    });
    children.set(index, child);
    child.once('exit', (code, signal) => {
      children.delete(index);
      if (stopping) {
        exitCodes.push(code ?? 1);
        return;
      }
      logger.error({ worker: index, code, signal }, 'collector worker died; restarting it');
      setTimeout(() => {
        if (!stopping) start(index);
      }, RESTART_DELAY_MS).unref();
    });
  };
  for (let index = 0; index < workers; index++) start(index);
  logger.info({ workers }, 'collector workers started');

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, workers: children.size }, 'stopping workers');
      for (const child of children.values()) child.kill(signal);
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  await Promise.all([...children.values()].map((child) => new Promise((resolve) => child.once('exit', resolve))));
  return exitCodes.every((code) => code === 0) ? 0 : 1;
}

/** This process's worker index under a supervisor, or undefined when it runs alone. */
export function workerIndex(): number | undefined {
  const value = process.env[WORKER_INDEX_ENV];
  return value === undefined ? undefined : Number(value);
}
