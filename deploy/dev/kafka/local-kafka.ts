/**
 * A real single-node Kafka (KRaft, broker + controller in one JVM) on demand,
 * for development and integration tests, run straight from Maven Central jars:
 * no Docker, no Kafka tarball.
 *
 *   const kafka = await startLocalKafka();
 *   // ... new Kafka({ brokers: kafka.brokers }) ...
 *   await kafka.stop();
 *
 * The jars come from deploy/dev/kafka/pom.xml; their classpath is resolved by
 * Maven once per Kafka version (and pom content) and cached under cacheDir.
 * Every broker gets its own temp dir and its own ports, so any number of them
 * may run side by side, from one process or several.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { packageRoot } from '../../../shared/paths.js';

export interface LocalKafkaOptions {
  /** Kafka version (kafka_2.13 on Maven Central). Default: $KAFKA_VERSION ?? '4.4.0'. */
  version?: string;
  /** Client (PLAINTEXT) port; 0 or undefined picks a free one. */
  port?: number;
  /** JVM heap (-Xms = -Xmx). Default 512. */
  heapMb?: number;
  /** Where resolved classpaths live. Default: $TRIBUTARY_CACHE_DIR ?? ~/.cache/tributary. */
  cacheDir?: string;
  /** Receives the broker's stdout/stderr lines (WARN and above; INFO goes to server.log). */
  onLog?: (line: string) => void;
  /** Bound on formatting + JVM start + readiness (not on a first Maven download). Default 120 s. */
  startTimeoutMs?: number;
}

export interface LocalKafka {
  readonly brokers: string[];
  readonly version: string;
  readonly port: number;
  /** The broker's own temp dir: server.properties, server.log, kraft-logs/. Removed by stop(). */
  readonly dataDir: string;
  /** Idempotent: SIGTERM, wait for exit (SIGKILL after 20 s), remove the temp dir. */
  stop(): Promise<void>;
  /**
   * Freezes the broker (SIGSTOP): connections stay open but nothing answers,
   * the way a hung or overloaded broker looks to clients. For outage tests.
   */
  pause(): void;
  /** Lets a paused broker run again (SIGCONT). */
  resume(): void;
}

const DEFAULT_VERSION = '4.4.0';
const DEFAULT_HEAP_MB = 512;
const DEFAULT_START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 20_000;
const READY_POLL_MS = 250;
const PORT_ATTEMPTS = 3;
const OUTPUT_TAIL_LINES = 40;
const MAVEN_TIMEOUT_MS = 15 * 60_000;
const TEMP_PREFIX = 'tributary-kafka-';
const VERSION_PATTERN = /^\d+\.\d+\.\d+(?:[-.][0-9A-Za-z]+)*$/;

export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const version = options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_VERSION;
  if (!VERSION_PATTERN.test(version)) throw new Error(`not a Kafka version: ${JSON.stringify(version)}`);
  const heapMb = options.heapMb ?? DEFAULT_HEAP_MB;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const cacheDir = options.cacheDir ?? process.env.TRIBUTARY_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'tributary');
  const requestedPort = options.port ?? 0;
  const kafkaDir = path.join(packageRoot(), 'deploy', 'dev', 'kafka');

  await sweepStaleTempDirs();
  const classpath = await resolveClasspath(kafkaDir, version, cacheDir);

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
  await fs.writeFile(path.join(dataDir, 'owner.pid'), `${process.pid}\n`);
  const deadline = Date.now() + startTimeoutMs;

  let lastError: unknown;
  try {
    // A picked port can be taken by someone else before the JVM binds it; only
    // then is a new pair of ports worth a retry. A fixed port is not retried.
    const attempts = requestedPort === 0 ? PORT_ATTEMPTS : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const port = requestedPort === 0 ? await pickFreePort() : requestedPort;
      const controllerPort = await pickFreePort();
      const reserved = requestedPort === 0 ? [port, controllerPort] : [controllerPort];
      try {
        return await launchBroker({ version, heapMb, classpath, kafkaDir, dataDir, port, controllerPort, reserved, deadline, onLog: options.onLog });
      } catch (error) {
        releasePorts(reserved);
        lastError = error;
        if (!(error instanceof BrokerStartError && error.portInUse)) break;
      }
    }
  } catch (error) {
    lastError = error;
  }
  await fs.rm(dataDir, { recursive: true, force: true });
  throw lastError;
}

// ---------------------------------------------------------------------------
// One attempt: format, spawn, wait until a real request succeeds.

interface LaunchSpec {
  version: string;
  heapMb: number;
  classpath: string;
  kafkaDir: string;
  dataDir: string;
  port: number;
  controllerPort: number;
  /** Ports this process reserved for the broker, released when it stops. */
  reserved: number[];
  deadline: number;
  onLog: ((line: string) => void) | undefined;
}

class BrokerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'BrokerStartError';
  }
}

async function launchBroker(spec: LaunchSpec): Promise<LocalKafka> {
  const { dataDir, port, controllerPort } = spec;
  const logDirs = path.join(dataDir, 'kraft-logs');
  // A previous attempt may have formatted with other ports; start clean.
  await fs.rm(logDirs, { recursive: true, force: true });
  await fs.rm(path.join(dataDir, 'server.log'), { force: true });

  const propertiesFile = path.join(dataDir, 'server.properties');
  await fs.writeFile(propertiesFile, serverProperties(spec.version, port, controllerPort, logDirs));

  const clusterId = newClusterId();
  const jvmCommon = [
    '-cp',
    spec.classpath,
    `-Dlog4j2.configurationFile=${path.join(spec.kafkaDir, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${dataDir}`,
    '-Djava.awt.headless=true',
  ];

  const format = await runJava(
    // The formatter is a short-lived tool: C1 only and a small heap start it faster.
    ['-Xmx256m', '-XX:TieredStopAtLevel=1', ...jvmCommon, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile, '--ignore-formatted'],
    spec.deadline,
  );
  if (format.code !== 0) {
    throw new BrokerStartError(`kafka.tools.StorageTool format exited with ${format.code}:\n${format.output}`, false);
  }

  const output = new LineTail(OUTPUT_TAIL_LINES);
  const child = spawn(javaBin(), [`-Xmx${spec.heapMb}m`, `-Xms${spec.heapMb}m`, '-XX:+ExitOnOutOfMemoryError', ...jvmCommon, 'kafka.Kafka', propertiesFile], {
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C (SIGINT to the whole foreground group) must reach only the
    // Node process, which then stops agent and collector before the broker. The exit hook and the stale-dir
    // sweep below still kill it if Node goes away without stop().
    detached: true,
  });
  const exited = new Promise<number | string>((resolve) => {
    // 'close', not 'exit': only then has the last stderr line (the fatal
    // error we want in the message) been read from the pipe.
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    // spawn failures (no java) arrive as 'error' and no 'exit'.
    child.once('error', (error) => {
      output.push(`spawn failed: ${error.message}`);
      resolve('spawn-error');
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      output.push(line);
      spec.onLog?.(line);
    });
  }
  track(child, dataDir);
  if (child.pid !== undefined) await fs.writeFile(path.join(dataDir, 'jvm.pid'), `${child.pid}\n`);

  const brokers = [`127.0.0.1:${port}`];

  let exitCode: number | string | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  let lastProbeError = 'no probe yet';
  const probeState: ProbeState = { controllerServing: false };
  for (;;) {
    if (exitCode !== undefined) {
      untrack(child);
      const text = output.lines().join('\n');
      const logTail = await tailOfFile(path.join(dataDir, 'server.log'), OUTPUT_TAIL_LINES);
      throw new BrokerStartError(
        `Kafka ${spec.version} exited with ${exitCode} during startup (ports ${port}/${controllerPort}). Last output:\n${text}` +
          (logTail ? `\n--- server.log (tail) ---\n${logTail}` : ''),
        /Address already in use|BindException/.test(text + logTail),
      );
    }
    if (Date.now() > spec.deadline) {
      await stopChild(child, exited);
      throw new BrokerStartError(
        `Kafka ${spec.version} not ready on ${brokers[0]} in time; last probe: ${lastProbeError}. Last output:\n${output.lines().join('\n')}`,
        false,
      );
    }
    const probe = await probeBroker(brokers, clusterId, probeState);
    if (probe === true) return makeHandle(child, exited, spec, brokers);
    lastProbeError = probe;
    await Promise.race([sleep(READY_POLL_MS), exited]);
  }
}

/** What the readiness probe has proven so far; each poll only checks what is still open. */
interface ProbeState {
  controllerServing: boolean;
}

/**
 * Readiness is a real round trip: describeCluster proves the broker answers
 * (and that it is OUR broker: the cluster id is the one we formatted with, not
 * some other process that grabbed the port), create+delete of a probe topic
 * proves the controller is serving. Last, a group lookup makes the broker
 * create and load __consumer_offsets now, so the first consumer of a test
 * does not crash-and-restart on "coordinator is loading".
 * Returns true or why not.
 */
async function probeBroker(brokers: string[], clusterId: string, state: ProbeState): Promise<true | string> {
  const admin = new Kafka({
    clientId: 'tributary-local-kafka-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1_000,
    requestTimeout: 10_000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.clusterId !== clusterId) return `cluster id ${cluster.clusterId} is not ours (${clusterId})`;
    if (!state.controllerServing) {
      // Unique per probe: a probe that failed half-way must not make the next one see "already exists".
      const topic = `__tributary-probe-${randomBytes(4).toString('hex')}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
      state.controllerServing = true;
    }
    await admin.describeGroups(['__tributary-probe']);
    return true;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function makeHandle(child: ChildProcess, exited: Promise<number | string>, spec: LaunchSpec, brokers: string[]): LocalKafka {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopChild(child, exited);
      await fs.rm(spec.dataDir, { recursive: true, force: true });
      releasePorts(spec.reserved);
    })();
    return stopping;
  };
  const signal = (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
  };
  return {
    brokers,
    version: spec.version,
    port: spec.port,
    dataDir: spec.dataDir,
    // A stopped JVM ignores SIGTERM until continued, so stop() resumes it first.
    stop: () => {
      signal('SIGCONT');
      return stop();
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
  };
}

/** SIGTERM lets Kafka close its logs cleanly; a broker stuck in shutdown gets SIGKILL after the grace period. */
async function stopChild(child: ChildProcess, exited: Promise<number | string>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill('SIGTERM');
    // Abort the grace timer once the JVM is gone so it does not hold the event loop open for 20 s.
    const grace = new AbortController();
    const graceful = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS, false, { signal: grace.signal }).catch(() => false)]);
    grace.abort();
    if (!graceful) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  untrack(child);
}

function serverProperties(version: string, port: number, controllerPort: number, logDirs: string): string {
  const major = Number(version.split('.')[0]);
  const props: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // Static voters: no --standalone at format time (mixing both is an error).
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': logDirs,
    'num.partitions': 1,
    'offsets.topic.replication.factor': 1,
    // The default 50 partitions make the first consumer group wait for 50
    // partition leaders on 2 cores; one is plenty for a dev broker.
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': 'false',
    'message.max.bytes': 8 * 1024 * 1024,
  };
  if (major >= 4) {
    // Share groups (KIP-932) arrived in 4.0; 3.9 would only warn about unknown keys.
    props['share.coordinator.state.topic.replication.factor'] = 1;
    props['share.coordinator.state.topic.min.isr'] = 1;
    props['share.coordinator.state.topic.num.partitions'] = 1;
  }
  return Object.entries(props)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
}

/**
 * A Kafka cluster id is a UUID in base64url without padding (22 chars).
 * Kafka's own Uuid.randomUuid() rerolls ids starting with '-' because the
 * command line would read them as an option; so do we.
 */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// ---------------------------------------------------------------------------
// Classpath: Maven once per (version, pom), then a cached file.

const classpathInFlight = new Map<string, Promise<string>>();

async function resolveClasspath(kafkaDir: string, version: string, cacheDir: string): Promise<string> {
  const key = `${cacheDir}\0${version}`;
  let pending = classpathInFlight.get(key);
  if (!pending) {
    // Concurrent starts in one process share one Maven run.
    pending = resolveClasspathUncached(kafkaDir, version, cacheDir).finally(() => classpathInFlight.delete(key));
    classpathInFlight.set(key, pending);
  }
  return pending;
}

async function resolveClasspathUncached(kafkaDir: string, version: string, cacheDir: string): Promise<string> {
  const pom = path.join(kafkaDir, 'pom.xml');
  const pomHash = createHash('sha256')
    .update(await fs.readFile(pom))
    .digest('hex');
  const versionDir = path.join(cacheDir, `kafka-${version}`);
  const classpathFile = path.join(versionDir, 'classpath.txt');
  const hashFile = path.join(versionDir, 'pom.sha256');

  const cached = await readCachedClasspath(classpathFile, hashFile, pomHash);
  if (cached !== undefined) return cached;

  await fs.mkdir(versionDir, { recursive: true });
  let classpath = await mavenClasspath(pom, version, versionDir, []);
  // All kafka_2.13 releases up to 4.4.0 use slf4j 1.7; should one move to
  // slf4j 2.x, the 1.7 binding would be silently ignored and the broker mute.
  if (/[\\/]slf4j-api-2\.[^\\/]*\.jar$/m.test(classpath.split(path.delimiter).join('\n'))) {
    classpath = await mavenClasspath(pom, version, versionDir, ['-Dslf4j.binding=log4j-slf4j2-impl']);
  }
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

async function mavenClasspath(pom: string, version: string, versionDir: string, extraArgs: string[]): Promise<string> {
  const outputFile = path.join(versionDir, `classpath.${process.pid}.${randomBytes(4).toString('hex')}.mvn`);
  try {
    const args = [
      '-q',
      '-B',
      '-f',
      pom,
      `-Dkafka.version=${version}`,
      ...extraArgs,
      'dependency:build-classpath',
      `-Dmdep.outputFile=${outputFile}`,
      '-Dmdep.includeScope=runtime',
    ];
    const result = await runProcess('mvn', args, Date.now() + MAVEN_TIMEOUT_MS);
    if (result.code !== 0) {
      throw new Error(`mvn ${args.join(' ')} exited with ${result.code} (does kafka_2.13:${version} exist on Maven Central?):\n${result.output}`);
    }
    const classpath = (await fs.readFile(outputFile, 'utf8')).trim();
    if (classpath === '') throw new Error(`mvn wrote an empty classpath for Kafka ${version}`);
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

// ---------------------------------------------------------------------------
// Ports.

/** Ports handed out by this process and not yet released: the OS may offer the same ephemeral port twice in a row. */
const reservedPorts = new Set<number>();

async function pickFreePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const picked = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(picked));
      });
    });
    if (port !== 0 && !reservedPorts.has(port)) {
      reservedPorts.add(port);
      return port;
    }
  }
  throw new Error('could not pick a free TCP port on 127.0.0.1');
}

function releasePorts(ports: number[]): void {
  for (const port of ports) reservedPorts.delete(port);
}

// ---------------------------------------------------------------------------
// Leak protection: JVMs of this process die with it; temp dirs of dead owners
// are swept at the next start.

const liveBrokers = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function track(child: ChildProcess, dataDir: string): void {
  liveBrokers.set(child, dataDir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: SIGKILL and rmSync only. This runs
    // when a test run ends without stop() (a failed beforeAll, process.exit).
    process.on('exit', () => {
      for (const [liveChild, dir] of liveBrokers) {
        try {
          liveChild.kill('SIGKILL');
        } catch {
          // Already gone.
        }
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

function untrack(child: ChildProcess): void {
  liveBrokers.delete(child);
}

/**
 * Removes temp dirs whose owner process is gone (SIGKILLed test runs never
 * reach their exit hook), and SIGKILLs the orphaned JVM such a run leaves
 * behind, identified by its pid file AND its command line naming the dir, so
 * a recycled pid is never hit.
 */
async function sweepStaleTempDirs(): Promise<void> {
  const tmp = os.tmpdir();
  let entries: string[];
  try {
    entries = await fs.readdir(tmp);
  } catch {
    return;
  }
  await Promise.all(
    entries
      .filter((name) => name.startsWith(TEMP_PREFIX))
      .map(async (name) => {
        const dir = path.join(tmp, name);
        const owner = await ownerPid(dir, name);
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

async function ownerPid(dir: string, name: string): Promise<number | undefined> {
  const fromFile = await readPid(path.join(dir, 'owner.pid'));
  if (fromFile !== undefined) return fromFile;
  // owner.pid is written right after mkdtemp; the pid is also in the name, so
  // a dir caught between the two is still attributed to its (live) owner.
  const match = /^tributary-kafka-(\d+)-/.exec(name);
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

// ---------------------------------------------------------------------------
// Child processes and their output.

function javaBin(): string {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', 'java') : 'java';
}

function runJava(args: string[], deadline: number): Promise<{ code: number | string; output: string }> {
  return runProcess(javaBin(), args, deadline);
}

/** Runs a command to completion, keeping the tail of its combined output; killed at the deadline. */
function runProcess(command: string, args: string[], deadline: number): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const tail = new LineTail(OUTPUT_TAIL_LINES);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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

class LineTail {
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

async function tailOfFile(file: string, lines: number): Promise<string> {
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
