/**
 * Short-lived tools (mvn, javac, a JVM's one-shot main) run to completion,
 * and the bits of output the dev launchers put into their error messages.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/** How many lines of a process's output (or of a server's log file) an error message quotes. */
export const OUTPUT_TAIL_LINES = 40;

export interface ProcessResult {
  /** The exit code, or the signal that ended it, or 'spawn-error' when it never ran. */
  code: number | string;
  /** The last lines of stdout and stderr, interleaved. */
  output: string;
}

/** A JDK tool ('java', 'javac'): from $JAVA_HOME when set, else from PATH. */
export function jdkTool(name: string): string {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', name) : name;
}

/** Runs a command to completion, keeping the tail of its combined output; killed at the deadline. */
export function runProcess(command: string, args: string[], deadline: number, options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const tail = new LineTail(OUTPUT_TAIL_LINES);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => tail.push(line));
    }
    const timer = setTimeout(
      () => {
        tail.push(`(killed: still running at the deadline)`);
        child.kill('SIGKILL');
      },
      Math.max(0, deadline - Date.now()),
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 'spawn-error', output: `${command}: ${error.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', output: tail.lines().join('\n') });
    });
  });
}

/** The last `max` lines pushed, for error messages. */
export class LineTail {
  private readonly buffer: string[] = [];
  constructor(private readonly max: number) {}
  push(line: string): void {
    // Strip ANSI colours (Maven's) so error messages read cleanly.
    // eslint-disable-next-line no-control-regex -- an ANSI escape sequence starts with ESC (0x1b)
    this.buffer.push(line.replace(/\u001b\[[0-9;]*m/g, ''));
    if (this.buffer.length > this.max) this.buffer.shift();
  }
  lines(): string[] {
    return [...this.buffer];
  }
}

/** The last `lines` lines of a file, or '' when it cannot be read (not written yet). */
export async function tailOfFile(file: string, lines: number): Promise<string> {
  try {
    const text = await fs.readFile(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '';
  }
}
