/**
 * A real standalone Solr 9 on demand, for development, integration tests, the
 * demo and benchmarks, run straight from Maven Central jars: no Docker, no
 * Solr tarball.
 *
 *   const solr = await startLocalSolr();
 *   // ... fetch(`${solr.url}/${solr.collection}/update?commitWithin=1000`, ...) ...
 *   await solr.stop();
 *
 * The jars come from deploy/dev/solr/pom.xml (org.apache.solr:solr-test-framework,
 * whose JettySolrRunner is Solr's own embedded Jetty); their classpath is
 * resolved by Maven once per Solr version (and pom content) and cached under
 * cacheDir, beside TributarySolr.class, the small launcher compiled from
 * TributarySolr.java at first use. Every server gets its own temp dir and its
 * own port, so any number of them may run side by side.
 *
 * The server: HTTP/1.1 on 127.0.0.1, context /solr, no authentication, one
 * core per name in `cores`, each with the committed configset
 * (deploy/dev/solr/configset: schema with the event id as uniqueKey and typed
 * dynamic fields, an fsynced update log, soft commits, the `tolerant` update
 * chain). Its data (the solr home with the cores' indexes and update logs)
 * outlives kill() and restart().
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../../../shared/paths.js';
import { compileJavaLauncher } from '../jvm/java-launcher.js';
import { JvmStartError, awaitReady, spawnJvm, type JvmProcess } from '../jvm/jvm-process.js';
import { defaultCacheDir, isMavenVersion, resolveMavenClasspath } from '../jvm/maven-classpath.js';
import { createOwnedTempDir, removeOwnedTempDir, sweepStaleTempDirs } from '../jvm/temp-dirs.js';

export interface LocalSolrOptions {
  /** org.apache.solr:solr-test-framework version. Default: $SOLR_VERSION ?? '9.10.1'. */
  solrVersion?: string;
  /** HTTP port; 0 or undefined lets Jetty bind one the OS picks (no race with other processes). */
  port?: number;
  /** JVM heap (-Xms = -Xmx). Default 512. */
  heapMb?: number;
  /** Cores to create with the committed configset. Default ['tributary']. */
  cores?: readonly string[];
  /** Where resolved classpaths and the compiled launcher live. Default: $TRIBUTARY_CACHE_DIR ?? ~/.cache/tributary. */
  cacheDir?: string;
  /** Receives the server's stdout/stderr lines (WARN and above; INFO goes to solr.log). */
  onLog?: (line: string) => void;
  /** Bound on JVM start + readiness, for start() and for each restart() (not on a first Maven download). Default 120 s. */
  startTimeoutMs?: number;
}

export interface LocalSolr {
  /** `http://127.0.0.1:PORT/solr`, no trailing slash: a core's handlers are under `${url}/${core}/`. */
  readonly url: string;
  readonly port: number;
  /** The first core: the collection the Solr output writes to by default (`tributary`). */
  readonly collection: string;
  /** Every core, those of createCore() included. */
  readonly cores: readonly string[];
  /** solr-spec-version from /admin/info/system, e.g. '9.10.1'. */
  readonly version: string;
  /** The server's own temp dir: solr.log, home/ (solr.xml, the cores' conf and data). Kept by kill(), removed by stop(). */
  readonly dataDir: string;
  /**
   * Adds a core with the committed configset (CoreAdmin CREATE) and resolves
   * once it answers a query; it is discovered again after a restart.
   */
  createCore(name: string): Promise<void>;
  /** Idempotent: SIGTERM, wait for exit (SIGKILL after 20 s), remove the temp dir. */
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections are accepted by the kernel but nothing answers. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
  /**
   * The server dies (SIGKILL, like a crash or an OOM kill): connections are
   * refused from then on, the data stays. Acknowledged updates survive: the
   * update log is fsynced per request and replayed at the next start.
   */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same port with the same data and resolves
   * once every core answers a query. A server that is still running is
   * stopped first (SIGTERM).
   */
  restart(): Promise<void>;
}

const DEFAULT_SOLR_VERSION = '9.10.1';
const DEFAULT_HEAP_MB = 512;
const DEFAULT_START_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 5_000;
const PORT_RETRY_MS = 1_000;
const TEMP_PREFIX = 'tributary-solr-';
const LAUNCHER_CLASS = 'TributarySolr';
const READY_LINE = /^TRIBUTARY_SOLR_HTTP_PORT=(\d+)$/;
/** A core name Solr accepts and that is safe in a path: letters, digits, `_`, `-`, `.`; not starting with `.` or `-`. */
const CORE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

export async function startLocalSolr(options: LocalSolrOptions = {}): Promise<LocalSolr> {
  const solrVersion = options.solrVersion ?? process.env.SOLR_VERSION ?? DEFAULT_SOLR_VERSION;
  if (!isMavenVersion(solrVersion)) throw new Error(`not a Solr version: ${JSON.stringify(solrVersion)}`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`not a TCP port: ${port}`);
  const cores = [...(options.cores ?? ['tributary'])];
  if (cores.length === 0 || new Set(cores).size !== cores.length) throw new Error(`cores must be distinct and at least one: ${JSON.stringify(cores)}`);
  for (const core of cores) if (!CORE_NAME.test(core)) throw new Error(`not a core name: ${JSON.stringify(core)}`);
  const solrDir = solrDeployDir();
  const versionDir = path.join(options.cacheDir ?? defaultCacheDir(), `solr-${solrVersion}`);

  await sweepStaleTempDirs(TEMP_PREFIX);
  const classpath = await resolveMavenClasspath({
    pom: path.join(solrDir, 'pom.xml'),
    versionDir,
    properties: { 'solr.version': solrVersion },
    artifact: `org.apache.solr:solr-test-framework:${solrVersion}`,
  });
  const launcherDir = await compileJavaLauncher({ source: path.join(solrDir, `${LAUNCHER_CLASS}.java`), classpath, versionDir });

  const dataDir = await createOwnedTempDir(TEMP_PREFIX);
  const spec: ServerSpec = {
    solrVersion,
    heapMb: options.heapMb ?? DEFAULT_HEAP_MB,
    classpath: [classpath, launcherDir].join(path.delimiter),
    logConfig: path.join(solrDir, 'log4j2.xml'),
    dataDir,
    home: path.join(dataDir, 'home'),
    cores,
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    onLog: options.onLog,
  };
  try {
    await layOutHome(solrDir, spec);
    const running = await launchServer(spec, port, Date.now() + spec.startTimeoutMs, false);
    return makeHandle(spec, running);
  } catch (error) {
    await removeOwnedTempDir(dataDir);
    throw error;
  }
}

function solrDeployDir(): string {
  return path.join(packageRoot(), 'deploy', 'dev', 'solr');
}

interface ServerSpec {
  solrVersion: string;
  heapMb: number;
  classpath: string;
  logConfig: string;
  dataDir: string;
  home: string;
  cores: string[];
  startTimeoutMs: number;
  onLog: ((line: string) => void) | undefined;
}

/** solr.xml and, per core, core.properties and a copy of the committed configset: core discovery finds them at start. */
async function layOutHome(solrDir: string, spec: ServerSpec): Promise<void> {
  await fs.mkdir(path.join(spec.dataDir, 'tmp'));
  await fs.mkdir(spec.home);
  await fs.copyFile(path.join(solrDir, 'solr.xml'), path.join(spec.home, 'solr.xml'));
  for (const core of spec.cores) {
    await copyConfigset(solrDir, path.join(spec.home, core));
    await fs.writeFile(path.join(spec.home, core, 'core.properties'), `name=${core}\n`);
  }
}

function copyConfigset(solrDir: string, coreDir: string): Promise<void> {
  return fs.cp(path.join(solrDir, 'configset', 'conf'), path.join(coreDir, 'conf'), { recursive: true });
}

// ---------------------------------------------------------------------------
// One JVM: spawn, learn its port, wait until a real request succeeds.

interface RunningServer {
  jvm: JvmProcess;
  port: number;
  version: string;
}

/**
 * Starts the server on `port` (0: any) and waits until it is ready. On restart
 * the port may still be held for a moment by whoever grabbed it while the
 * server was down, so `retryPortInUse` tries again until the deadline.
 */
async function launchServer(spec: ServerSpec, port: number, deadline: number, retryPortInUse: boolean): Promise<RunningServer> {
  for (;;) {
    try {
      return await launchOnce(spec, port, deadline);
    } catch (error) {
      if (!(retryPortInUse && error instanceof JvmStartError && error.portInUse && Date.now() + PORT_RETRY_MS < deadline)) throw error;
      await sleep(PORT_RETRY_MS);
    }
  }
}

async function launchOnce(spec: ServerSpec, requestedPort: number, deadline: number): Promise<RunningServer> {
  const { dataDir } = spec;
  let announcedPort: number | undefined;
  const jvm = await spawnJvm({
    dir: dataDir,
    args: [
      `-Xms${spec.heapMb}m`,
      `-Xmx${spec.heapMb}m`,
      // What Solr's bin/solr sets by default for Java 17.
      '-XX:+UseG1GC',
      '-XX:+ExitOnOutOfMemoryError',
      '-XX:-OmitStackTraceInFastThrow',
      '-Dfile.encoding=UTF-8',
      '-Djava.awt.headless=true',
      `-Djava.io.tmpdir=${path.join(dataDir, 'tmp')}`,
      `-Dsolr.log.dir=${dataDir}`,
      `-Dlog4j2.configurationFile=${spec.logConfig}`,
      // Our shutdown hook stops Jetty and closes the cores; log4j must still be there to log it.
      '-Dlog4j2.shutdownHookEnabled=false',
      '-cp',
      spec.classpath,
      LAUNCHER_CLASS,
      '--home',
      spec.home,
      '--port',
      String(requestedPort),
    ],
    onLog: spec.onLog,
    // The launcher prints the port it bound once every core is loaded: for us, not for the log.
    takeStdoutLine: (line) => {
      const ready = READY_LINE.exec(line);
      if (ready?.[1] === undefined) return false;
      announcedPort = Number(ready[1]);
      return true;
    },
  });
  const ready = await awaitReady(jvm, {
    name: `Solr ${spec.solrVersion} (${requestedPort === 0 ? 'any port' : `port ${requestedPort}`})`,
    deadline,
    probe: async () => {
      if (announcedPort === undefined) return 'Solr has not announced its HTTP port yet';
      const port = announcedPort;
      const probe = await probeServer(port, spec);
      return typeof probe === 'string' ? probe : { port, version: probe.version };
    },
    logFile: path.join(dataDir, 'solr.log'),
    // Only this start's output: solr.log outlives restarts and may still tell of an earlier bind failure.
    portInUse: (output) => /BindException|Address already in use/.test(output),
  });
  return { jvm, ...ready };
}

/**
 * Readiness is a real round trip on the announced port: /admin/info/system
 * must name our solr home (not some other server that holds the port), and
 * every core must answer a query (after a restart: its update log replayed).
 */
async function probeServer(port: number, spec: ServerSpec): Promise<{ version: string } | string> {
  const base = `http://127.0.0.1:${port}/solr`;
  try {
    const info = await fetch(`${base}/admin/info/system?wt=json`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!info.ok) return `GET /solr/admin/info/system answered ${info.status}`;
    const system = (await info.json()) as { solr_home?: unknown; lucene?: { 'solr-spec-version'?: unknown } };
    const home = typeof system.solr_home === 'string' ? path.resolve(system.solr_home) : undefined;
    if (home !== path.resolve(spec.home)) return `the server on port ${port} serves solr home ${String(system.solr_home)}, not ours (${spec.home})`;
    const version = system.lucene?.['solr-spec-version'];
    if (typeof version !== 'string') return 'GET /solr/admin/info/system reports no lucene.solr-spec-version';
    for (const core of spec.cores) {
      const query = await fetch(`${base}/${core}/select?q=*:*&rows=0&wt=json`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      if (!query.ok) return `GET /solr/${core}/select answered ${query.status}: ${(await query.text()).slice(0, 300)}`;
      await query.arrayBuffer().catch(() => undefined);
    }
    return { version };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return error instanceof Error ? `${error.name}: ${error.message}${cause}` : String(error);
  }
}

function makeHandle(spec: ServerSpec, first: RunningServer): LocalSolr {
  const port = first.port;
  let current: RunningServer | undefined = first;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  // kill, restart and stop run one after another, each on the state the previous one left.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };
  // SIGTERM lets Solr close its cores cleanly.
  const stopCurrent = async (): Promise<void> => {
    await current?.jvm.stop();
    current = undefined;
  };

  return {
    url: `http://127.0.0.1:${port}/solr`,
    port,
    collection: spec.cores[0] as string,
    cores: spec.cores,
    version: first.version,
    dataDir: spec.dataDir,
    stop: () => {
      stopping ??= serialized(async () => {
        stopped = true;
        await stopCurrent();
        await removeOwnedTempDir(spec.dataDir);
      });
      return stopping;
    },
    createCore: (name) =>
      serialized(async () => {
        if (!CORE_NAME.test(name)) throw new Error(`not a core name: ${JSON.stringify(name)}`);
        if (spec.cores.includes(name)) throw new Error(`core ${name} exists`);
        if (current === undefined) throw new Error(`Solr on port ${port} is not running`);
        await copyConfigset(solrDeployDir(), path.join(spec.home, name));
        const query = new URLSearchParams({ action: 'CREATE', name, instanceDir: name, wt: 'json' });
        const response = await fetch(`http://127.0.0.1:${port}/solr/admin/cores?${query.toString()}`, { signal: AbortSignal.timeout(60_000) });
        if (!response.ok) throw new Error(`creating core ${name}: HTTP ${response.status} ${(await response.text()).slice(0, 500)}`);
        await response.arrayBuffer();
        spec.cores.push(name);
      }),
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
        if (stopped) throw new Error(`Solr on port ${port} was stopped (its data dir removed); start a new one`);
        await stopCurrent();
        current = await launchServer(spec, port, Date.now() + spec.startTimeoutMs, true);
      }),
  };
}
