/**
 * The classpath of a dev server's pom: resolved by Maven (from Maven Central
 * into ~/.m2) once per artifact version and pom content, then read from a
 * cache file. Concurrent starts in one process share one Maven run; first
 * starts racing in several processes each end with a complete cache.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from './run-process.js';

const MAVEN_TIMEOUT_MS = 15 * 60_000;

/**
 * A release version as Maven Central spells them ('4.4.0', '2.19.1.0', '3.9.2-rc1'). The version
 * becomes a -D argument and a cache dir name, so anything else is refused before it gets there.
 */
const VERSION_PATTERN = /^\d+\.\d+\.\d+(?:[-.][0-9A-Za-z]+)*$/;

export function isMavenVersion(text: string): boolean {
  return VERSION_PATTERN.test(text);
}

/** Where resolved classpaths (and anything else built once per version) are cached: $TRIBUTARY_CACHE_DIR ?? ~/.cache/tributary. */
export function defaultCacheDir(): string {
  return process.env.TRIBUTARY_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'tributary');
}

export interface MavenClasspathSpec {
  /** The pom whose runtime dependencies make the classpath. */
  pom: string;
  /** This artifact version's own cache dir, e.g. `<cacheDir>/kafka-4.4.0`: holds classpath.txt and pom.sha256. */
  versionDir: string;
  /** -D properties the pom needs, e.g. { 'kafka.version': '4.4.0' }. */
  properties: Record<string, string>;
  /** The artifact in error messages, as on Maven Central: 'org.apache.kafka:kafka_2.13:4.4.0'. */
  artifact: string;
  /**
   * Looks at a freshly resolved classpath and returns extra Maven arguments to
   * resolve it once more with (say, another logging binding), or undefined to keep it.
   */
  reresolve?: (classpath: string) => string[] | undefined;
}

const inFlight = new Map<string, Promise<string>>();

/** The classpath (entries joined by path.delimiter), from the cache when its pom hash matches and every jar is still there. */
export function resolveMavenClasspath(spec: MavenClasspathSpec): Promise<string> {
  let pending = inFlight.get(spec.versionDir);
  if (!pending) {
    // Concurrent starts in one process share one Maven run.
    pending = resolveUncached(spec).finally(() => inFlight.delete(spec.versionDir));
    inFlight.set(spec.versionDir, pending);
  }
  return pending;
}

async function resolveUncached(spec: MavenClasspathSpec): Promise<string> {
  const pomHash = createHash('sha256')
    .update(await fs.readFile(spec.pom))
    .digest('hex');
  const classpathFile = path.join(spec.versionDir, 'classpath.txt');
  const hashFile = path.join(spec.versionDir, 'pom.sha256');

  const cached = await readCachedClasspath(classpathFile, hashFile, pomHash);
  if (cached !== undefined) return cached;

  await fs.mkdir(spec.versionDir, { recursive: true });
  let classpath = await mavenClasspath(spec, []);
  const extraArgs = spec.reresolve?.(classpath);
  if (extraArgs !== undefined) classpath = await mavenClasspath(spec, extraArgs);
  // Hash first, classpath last: a reader that sees the new classpath.txt also
  // sees its hash. Each file is replaced atomically (tmp + rename), so two
  // first starts racing each other both end with a complete pair.
  await writeAtomically(hashFile, `${pomHash}\n`);
  await writeAtomically(classpathFile, `${classpath}\n`);
  return classpath;
}

async function readCachedClasspath(classpathFile: string, hashFile: string, pomHash: string): Promise<string | undefined> {
  let classpath: string;
  try {
    if ((await fs.readFile(hashFile, 'utf8')).trim() !== pomHash) return undefined;
    classpath = (await fs.readFile(classpathFile, 'utf8')).trim();
  } catch {
    return undefined;
  }
  const jars = classpath.split(path.delimiter).filter((entry) => entry !== '');
  if (jars.length === 0) return undefined;
  // A cleaned ~/.m2 leaves a classpath of missing jars: resolve again.
  const present = await Promise.all(
    jars.map((jar) =>
      fs.access(jar).then(
        () => true,
        () => false,
      ),
    ),
  );
  return present.every(Boolean) ? classpath : undefined;
}

async function mavenClasspath(spec: MavenClasspathSpec, extraArgs: string[]): Promise<string> {
  const outputFile = path.join(spec.versionDir, `classpath.${process.pid}.${randomBytes(4).toString('hex')}.mvn`);
  try {
    const args = [
      '-q',
      '-B',
      '-f',
      spec.pom,
      ...Object.entries(spec.properties).map(([key, value]) => `-D${key}=${value}`),
      ...extraArgs,
      'dependency:build-classpath',
      `-Dmdep.outputFile=${outputFile}`,
      '-Dmdep.includeScope=runtime',
    ];
    const result = await runProcess('mvn', args, Date.now() + MAVEN_TIMEOUT_MS);
    if (result.code !== 0) {
      throw new Error(`mvn ${args.join(' ')} exited with ${result.code} (does ${spec.artifact} exist on Maven Central?):\n${result.output}`);
    }
    const classpath = (await fs.readFile(outputFile, 'utf8')).trim();
    if (classpath === '') throw new Error(`mvn wrote an empty classpath for ${spec.artifact}`);
    return classpath;
  } finally {
    await fs.rm(outputFile, { force: true });
  }
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}
