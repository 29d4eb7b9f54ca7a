/**
 * Leak protection for the dev servers' temp dirs and the JVMs running in
 * them: the JVMs of this process die with it (a synchronous exit hook), and
 * temp dirs whose owner died without running that hook (SIGKILL) are swept,
 * with their orphaned JVM, at the next start.
 *
 * A dir is `<tmpdir>/<prefix><owner pid>-XXXXXX`, holding `owner.pid` and,
 * once a JVM runs in it, `jvm.pid`. Each launcher uses its own prefix, so a
 * sweep only ever touches dirs of its own kind.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** Temp dirs of this process and the last JVM started in each, if any. */
const ownedDirs = new Map<string, ChildProcess | undefined>();
let exitHookInstalled = false;

/** Creates a temp dir owned by this process: removed by the exit hook unless removeOwnedTempDir() came first. */
export async function createOwnedTempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}${process.pid}-`));
  own(dir, undefined);
  await fs.writeFile(path.join(dir, 'owner.pid'), `${process.pid}\n`);
  return dir;
}

/**
 * Records the JVM now running in an owned dir: the exit hook SIGKILLs it, and
 * jvm.pid lets the sweep of a later run find it should this process be SIGKILLed.
 * A JVM that has exited may stay recorded: Node signals only children it has not reaped.
 */
export async function attachJvm(dir: string, child: ChildProcess): Promise<void> {
  own(dir, child);
  if (child.pid !== undefined) await fs.writeFile(path.join(dir, 'jvm.pid'), `${child.pid}\n`);
}

/** Removes an owned dir (its JVM must be gone) and forgets it. */
export async function removeOwnedTempDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  ownedDirs.delete(dir);
}

function own(dir: string, child: ChildProcess | undefined): void {
  ownedDirs.set(dir, child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: SIGKILL and rmSync only. This runs
    // when a test run ends without stop() (a failed beforeAll, process.exit).
    process.on('exit', () => {
      for (const [ownedDir, jvm] of ownedDirs) {
        try {
          jvm?.kill('SIGKILL');
        } catch {
          // Already gone.
        }
        rmSync(ownedDir, { recursive: true, force: true });
      }
    });
  }
}

/**
 * Removes the `prefix` temp dirs whose owner process is gone (SIGKILLed test
 * runs never reach their exit hook), and SIGKILLs the orphaned JVM such a run
 * leaves behind, identified by its pid file AND its command line or working
 * directory naming the dir, so a recycled pid is never hit.
 */
export async function sweepStaleTempDirs(prefix: string): Promise<void> {
  const tmp = os.tmpdir();
  let entries: string[];
  try {
    entries = await fs.readdir(tmp);
  } catch {
    return;
  }
  await Promise.all(
    entries
      .filter((name) => name.startsWith(prefix))
      .map(async (name) => {
        const dir = path.join(tmp, name);
        const owner = await ownerPid(dir, name.slice(prefix.length));
        if (owner === undefined || owner === process.pid || isAlive(owner)) return;
        const jvm = await readPid(path.join(dir, 'jvm.pid'));
        if (jvm !== undefined && isAlive(jvm) && commandLineMentions(jvm, dir)) {
          try {
            process.kill(jvm, 'SIGKILL');
          } catch {
            // Raced with its own exit.
          }
        }
        await fs.rm(dir, { recursive: true, force: true });
      }),
  );
}

/** `suffix` is the dir's name after the prefix: `<owner pid>-XXXXXX`. */
async function ownerPid(dir: string, suffix: string): Promise<number | undefined> {
  const fromFile = await readPid(path.join(dir, 'owner.pid'));
  if (fromFile !== undefined) return fromFile;
  // owner.pid is written right after mkdtemp; the pid is also in the name, so
  // a dir caught between the two is still attributed to its (live) owner.
  const match = /^(\d+)-/.exec(suffix);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await fs.readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A SIGKILLed process stays signalable as a zombie until its parent reaps
  // it, which some init processes do lazily: it is gone all the same.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    // ENOENT: it exited just now. Anything else (no /proc): trust kill(0).
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

function commandLineMentions(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir) || readlinkSync(`/proc/${pid}/cwd`) === dir;
  } catch {
    // No /proc (not Linux) or no permission: do not kill what we cannot identify.
    return false;
  }
}
