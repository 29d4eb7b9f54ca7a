/**
 * A dev server's small Java launcher (one source file beside its pom),
 * compiled with javac at first use against the server's classpath and cached:
 * once per (source, classpath, JDK), never twice, safe against concurrent
 * first starts in several processes.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { jdkTool, runProcess } from './run-process.js';

const JAVAC_TIMEOUT_MS = 2 * 60_000;

export interface JavaLauncherSpec {
  /** The launcher's source file, e.g. deploy/dev/solr/TributarySolr.java; its class has the file's name. */
  source: string;
  /** The classpath it is compiled against (and later run with). */
  classpath: string;
  /** The server version's cache dir (see resolveMavenClasspath); the classes go into a `launcher-<hash>` dir inside. */
  versionDir: string;
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Compiles the launcher into a directory named by the hash of its source, the
 * classpath and $JAVA_HOME, so an edit or a new server version compiles anew.
 * Returns the classpath to run it with: spec.classpath and that directory.
 */
export async function compileJavaLauncher(spec: JavaLauncherSpec): Promise<string> {
  const classesDir = await compileCached(spec);
  return [spec.classpath, classesDir].join(path.delimiter);
}

/**
 * The one stdout line by which a launcher announces, once its server serves
 * HTTP, the port it bound: `<variable>=<port>`. Give `take` to spawnJvm as
 * takeStdoutLine (the line is for us, not for the log) and read `port()` in
 * the readiness probe.
 */
export function portAnnouncement(variable: string): { take: (line: string) => boolean; port: () => number | undefined } {
  const pattern = new RegExp(`^${variable}=(\\d+)$`);
  let announced: number | undefined;
  return {
    take: (line) => {
      const match = pattern.exec(line);
      if (match?.[1] === undefined) return false;
      announced = Number(match[1]);
      return true;
    },
    port: () => announced,
  };
}

async function compileCached(spec: JavaLauncherSpec): Promise<string> {
  const className = path.basename(spec.source, '.java');
  const hash = createHash('sha256')
    .update(await fs.readFile(spec.source))
    .update('\0')
    .update(spec.classpath)
    .update('\0')
    .update(process.env.JAVA_HOME ?? '')
    .digest('hex')
    .slice(0, 16);
  const outputDir = path.join(spec.versionDir, `launcher-${hash}`);
  let pending = inFlight.get(outputDir);
  if (!pending) {
    pending = compileUncached(spec, className, outputDir).finally(() => inFlight.delete(outputDir));
    inFlight.set(outputDir, pending);
  }
  return pending;
}

async function compileUncached(spec: JavaLauncherSpec, className: string, outputDir: string): Promise<string> {
  try {
    await fs.access(path.join(outputDir, `${className}.class`));
    return outputDir;
  } catch {
    // Not compiled yet.
  }
  // Compile into a private dir and rename it into place: a concurrent first
  // start in another process never sees a half-written class file.
  const scratch = `${outputDir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.mkdir(scratch, { recursive: true });
    const args = ['-nowarn', '-encoding', 'UTF-8', '-cp', spec.classpath, '-d', scratch, spec.source];
    const result = await runProcess(jdkTool('javac'), args, Date.now() + JAVAC_TIMEOUT_MS);
    if (result.code !== 0) {
      throw new Error(`javac ${className}.java exited with ${result.code} (a JDK, not just a JRE, is needed):\n${result.output}`);
    }
    try {
      await fs.rename(scratch, outputDir);
    } catch (error) {
      // Another process won the race: its classes are the same.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
    }
    return outputDir;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
