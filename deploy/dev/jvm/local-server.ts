/**
 * The life of a dev server once its first JVM is ready, the same for every
 * kind: the handle owns a temp dir; stop() ends the JVM and removes the dir,
 * once however often it is called; pause()/resume() freeze and thaw it;
 * kill() crashes it keeping the dir; restart() brings it back on the same
 * port(s) with the same data. Written once so that the servers cannot drift
 * apart in how these interleave (each waits for the ones called before it);
 * what differs per server (launching one JVM, judging it ready) comes in as a
 * function.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { JvmStartError, type JvmProcess } from './jvm-process.js';
import { createOwnedTempDir, removeOwnedTempDir, sweepStaleTempDirs } from './temp-dirs.js';

export const DEFAULT_START_TIMEOUT_MS = 120_000;
const PORT_RETRY_MS = 1_000;

/** The options every start function takes besides its version, port and heap. */
export interface LocalServerOptions {
  /** Where resolved classpaths and compiled launchers live. Default: $TRIBUTARY_CACHE_DIR ?? ~/.cache/tributary. */
  cacheDir?: string;
  /** Receives the server's stdout/stderr lines (WARN and above; INFO goes to the log file in its data dir). */
  onLog?: (line: string) => void;
  /** Bound on getting the server ready (not on a first Maven download), for start() and, where offered, each restart(). Default 120 s. */
  startTimeoutMs?: number;
}

/** What every dev server's handle can do. */
export interface LocalServerControls {
  /** Idempotent: SIGTERM, wait for exit (SIGKILL after 20 s), remove the temp dir. */
  stop(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP): connections are accepted by the kernel but
   * nothing answers, the way a hung or overloaded server looks to clients.
   */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
}

/** What a dev server that keeps its data across a crash can do besides. */
export interface RestartableServerControls extends LocalServerControls {
  /**
   * The server dies (SIGKILL, like a crash or an OOM kill): connections are
   * refused from then on, the data dir stays. No-op when it is not running.
   */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same port(s) with the same data and
   * resolves once it is ready. A server still running is stopped first
   * (SIGTERM); one that was stop()ped cannot restart.
   */
  restart(): Promise<void>;
}

/**
 * Sweeps the stale dirs of this kind, creates this server's own and hands it
 * to `start`; should the start fail, the dir goes with it.
 */
export async function startInOwnedTempDir<T>(prefix: string, start: (dir: string) => Promise<T>): Promise<T> {
  await sweepStaleTempDirs(prefix);
  const dir = await createOwnedTempDir(prefix);
  try {
    return await start(dir);
  } catch (error) {
    await removeOwnedTempDir(dir);
    throw error;
  }
}

/**
 * Tries `launch` again while it fails for a port in use and the deadline
 * allows, calling `beforeRetry` in between: by default a pause, for a port we
 * must have back (someone may hold it for a moment), while a launch that
 * picks new ports can retry at once.
 */
export async function retryWhilePortInUse<T>(
  deadline: number,
  launch: () => Promise<T>,
  beforeRetry: () => Promise<unknown> = () => sleep(PORT_RETRY_MS),
): Promise<T> {
  for (;;) {
    try {
      return await launch();
    } catch (error) {
      if (!(error instanceof JvmStartError && error.portInUse && Date.now() + PORT_RETRY_MS < deadline)) throw error;
      await beforeRetry();
    }
  }
}

export interface LocalServerLifecycle<Launch extends { jvm: JvmProcess }> {
  /** In the error of a restart after stop(): 'Solr on port 8983'. */
  name: string;
  /** From startInOwnedTempDir(): kept by kill(), removed by stop(). */
  dataDir: string;
  /** The first JVM, ready. */
  first: Launch;
  /** How restart() launches one JVM again; without it, restart() is not offered. */
  restart?: {
    /** On the same port(s) with the same data, ready by the deadline. */
    launch: (deadline: number) => Promise<Launch>;
    /** The deadline's distance: the server's startTimeoutMs. */
    timeoutMs: number;
  };
  /** Runs once the JVM is gone and the dir removed: releases what else the server held. */
  afterStop?: () => void;
}

/** The handle's lifecycle, plus what a server's own operations need to run alongside it. */
export interface ManagedLocalServer<Launch> {
  controls: RestartableServerControls;
  /** The JVM running now and what its launch found, or undefined while killed or stopped. */
  current(): Launch | undefined;
  /**
   * Runs an operation after every kill, restart and stop called before it, on
   * the state they left (Solr's createCore needs a server that stays up meanwhile).
   */
  serialized<T>(operation: () => Promise<T>): Promise<T>;
}

export function manageLocalServer<Launch extends { jvm: JvmProcess }>(lifecycle: LocalServerLifecycle<Launch>): ManagedLocalServer<Launch> {
  let current: Launch | undefined = lifecycle.first;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };
  const stopCurrent = async (): Promise<void> => {
    await current?.jvm.stop();
    current = undefined;
  };
  const controls: RestartableServerControls = {
    stop: () => {
      stopping ??= serialized(async () => {
        stopped = true;
        await stopCurrent();
        await removeOwnedTempDir(lifecycle.dataDir);
        lifecycle.afterStop?.();
      });
      return stopping;
    },
    pause: () => current?.jvm.signal('SIGSTOP'),
    resume: () => current?.jvm.signal('SIGCONT'),
    // The dir stays (and stays ours: the exit hook still removes it if the process ends without stop()).
    kill: () =>
      serialized(async () => {
        await current?.jvm.kill();
        current = undefined;
      }),
    restart: () =>
      serialized(async () => {
        const restart = lifecycle.restart;
        if (restart === undefined) throw new Error(`${lifecycle.name} cannot restart`);
        if (stopped) throw new Error(`${lifecycle.name} was stopped (its data dir removed); start a new one`);
        await stopCurrent();
        const deadline = Date.now() + restart.timeoutMs;
        // The port was free while the JVM was down; whoever took it meanwhile may let go in a moment.
        current = await retryWhilePortInUse(deadline, () => restart.launch(deadline));
      }),
  };
  return { controls, current: () => current, serialized };
}
