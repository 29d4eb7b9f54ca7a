/**
 * A dev server's JVM: spawned in its owned temp dir, its output kept for
 * error messages, waited on until a real request succeeds, stopped with
 * SIGTERM and, after a grace period, SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineTail, OUTPUT_TAIL_LINES, jdkTool, tailOfFile } from './run-process.js';
import { attachJvm } from './temp-dirs.js';

const STOP_GRACE_MS = 20_000;
const READY_POLL_MS = 250;
/** Per request of a readiness probe: a server that takes longer is not ready, and the next poll asks again. */
export const PROBE_TIMEOUT_MS = 5_000;

export interface JvmSpawnOptions {
  /** A dir from createOwnedTempDir(): the JVM's working dir, where its pid is recorded for leak protection. */
  dir: string;
  /** Everything after `java`: JVM options, -cp, the main class and its arguments. */
  args: string[];
  /** Receives the JVM's stdout/stderr lines. */
  onLog: ((line: string) => void) | undefined;
  /** Sees each stdout line first; true keeps it out of onLog and the output tail (a line meant for the launcher). */
  takeStdoutLine?: (line: string) => boolean;
}

/** A start that failed; `portInUse` says whether another port (or a later try on the same one) may succeed. */
export class JvmStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'JvmStartError';
  }
}

export class JvmProcess {
  /** Resolves with the exit code or signal once the process is gone and its output read. */
  readonly exited: Promise<number | string>;
  /** The last lines of its stdout and stderr, for error messages. */
  readonly output = new LineTail(OUTPUT_TAIL_LINES);
  private exitResult: number | string | undefined;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise<number | string>((resolve) => {
      // 'close', not 'exit': only then has the last stderr line (the fatal
      // error we want in the message) been read from the pipe.
      child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      // spawn failures (no java) arrive as 'error' and no 'exit'.
      child.once('error', (error) => {
        this.output.push(`spawn failed: ${error.message}`);
        resolve('spawn-error');
      });
    });
    void this.exited.then((code) => {
      this.exitResult = code;
    });
  }

  /** The exit code or signal once the process is gone and its output read, else undefined. */
  get exitCode(): number | string | undefined {
    return this.exitResult;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal unless the process has exited (SIGSTOP/SIGCONT for pause and resume). */
  signal(name: NodeJS.Signals): void {
    if (this.running) this.child.kill(name);
  }

  /**
   * SIGTERM lets the server close its files cleanly; one stuck in shutdown
   * gets SIGKILL after the grace period. Resolves once it is gone.
   */
  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    // A stopped (paused) JVM ignores SIGTERM until continued.
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    // Abort the grace timer once the JVM is gone so it does not hold the event loop open for 20 s.
    const grace = new AbortController();
    const graceful = await Promise.race([this.exited.then(() => true), sleep(STOP_GRACE_MS, false, { signal: grace.signal }).catch(() => false)]);
    grace.abort();
    if (!graceful) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** SIGKILL, like a crash or an OOM kill (it works on a paused JVM too). Resolves once it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

export async function spawnJvm(options: JvmSpawnOptions): Promise<JvmProcess> {
  const child = spawn(jdkTool('java'), options.args, {
    cwd: options.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C (SIGINT to the whole foreground group) must reach only the
    // Node process, which then stops agent and collector before the server. The exit hook and the stale-dir
    // sweep (temp-dirs.ts) still kill it if Node goes away without stop().
    detached: true,
  });
  const jvm = new JvmProcess(child);
  const take = options.takeStdoutLine;
  const keep = (line: string) => {
    jvm.output.push(line);
    options.onLog?.(line);
  };
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
    if (!take?.(line)) keep(line);
  });
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', keep);
  await attachJvm(options.dir, child);
  return jvm;
}

export interface ReadyWait<T> {
  /** The server in error messages: 'Kafka 4.4.0 on 127.0.0.1:9092'. */
  name: string;
  /** Epoch ms; past it the JVM is stopped and the start fails. */
  deadline: number;
  /** One real request: its result once the server is ready, else why not. */
  probe: () => Promise<T | string>;
  /** The server's own log file; its tail goes into error messages. */
  logFile: string;
  /** Whether the JVM died because its port was taken, judged from its output and its log's tail. */
  portInUse: (output: string, logTail: string) => boolean;
}

/**
 * Probes until the server is ready and returns what the probe returned.
 * Throws JvmStartError when the JVM exits first or the deadline passes (the
 * JVM is stopped then). Object results only: a string means "not yet".
 */
export async function awaitReady<T extends object>(jvm: JvmProcess, wait: ReadyWait<T>): Promise<T> {
  let lastProbeError = 'no probe yet';
  const withLogTail = async (message: string): Promise<{ message: string; logTail: string }> => {
    const logTail = await tailOfFile(wait.logFile, OUTPUT_TAIL_LINES);
    return { message: message + (logTail ? `\n--- ${wait.logFile} (tail) ---\n${logTail}` : ''), logTail };
  };
  for (;;) {
    const exitCode = jvm.exitCode;
    if (exitCode !== undefined) {
      const text = jvm.output.lines().join('\n');
      const { message, logTail } = await withLogTail(`${wait.name} exited with ${exitCode} during startup. Last output:\n${text}`);
      throw new JvmStartError(message, wait.portInUse(text, logTail));
    }
    if (Date.now() > wait.deadline) {
      await jvm.stop();
      const { message } = await withLogTail(`${wait.name} not ready in time; last probe: ${lastProbeError}. Last output:\n${jvm.output.lines().join('\n')}`);
      throw new JvmStartError(message, false);
    }
    const probe = await wait.probe();
    if (typeof probe !== 'string') return probe;
    lastProbeError = probe;
    await Promise.race([sleep(READY_POLL_MS), jvm.exited]);
  }
}

/** Why a probe's request failed, for the `last probe:` of a timeout: fetch hides the socket error in its cause. */
export function describeProbeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}: ${error.message}${cause}`;
}
