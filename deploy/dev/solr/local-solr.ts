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
import { packageRoot } from '../../../shared/paths.js';
import { compileJavaLauncher, portAnnouncement } from '../jvm/java-launcher.js';
import { PROBE_TIMEOUT_MS, awaitReady, describeProbeError, spawnJvm, type JvmProcess } from '../jvm/jvm-process.js';
import {
  DEFAULT_START_TIMEOUT_MS,
  manageLocalServer,
  startInOwnedTempDir,
  type RestartableServerControls,
  type LocalServerOptions,
} from '../jvm/local-server.js';
import { defaultCacheDir, isMavenVersion, resolveMavenClasspath } from '../jvm/maven-classpath.js';

export interface LocalSolrOptions extends LocalServerOptions {
  /** org.apache.solr:solr-test-framework version. Default: $SOLR_VERSION ?? '9.10.1'. */
  solrVersion?: string;
  /** HTTP port; 0 or undefined lets Jetty bind one the OS picks (no race with other processes). */
  port?: number;
  /** JVM heap (-Xms = -Xmx). Default 512. */
  heapMb?: number;
  /** Cores to create with the committed configset. Default ['tributary']. */
  cores?: readonly string[];
}

/**
 * kill(): acknowledged updates survive (the update log is fsynced per request
 * and replayed at the next start). restart(): resolves once every core
 * answers a query.
 */
export interface LocalSolr extends RestartableServerControls {
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
}

const DEFAULT_SOLR_VERSION = '9.10.1';
const DEFAULT_HEAP_MB = 512;
const TEMP_PREFIX = 'tributary-solr-';
const LAUNCHER_CLASS = 'TributarySolr';
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

  const classpath = await resolveMavenClasspath({
    pom: path.join(solrDir, 'pom.xml'),
    versionDir,
    properties: { 'solr.version': solrVersion },
    artifact: `org.apache.solr:solr-test-framework:${solrVersion}`,
  });
  const launcherClasspath = await compileJavaLauncher({ source: path.join(solrDir, `${LAUNCHER_CLASS}.java`), classpath, versionDir });
  return startInOwnedTempDir(TEMP_PREFIX, async (dataDir) => {
    const spec: ServerSpec = {
      solrVersion,
      heapMb: options.heapMb ?? DEFAULT_HEAP_MB,
      classpath: launcherClasspath,
      logConfig: path.join(solrDir, 'log4j2.xml'),
      dataDir,
      home: path.join(dataDir, 'home'),
      cores,
      startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      onLog: options.onLog,
    };
    await layOutHome(solrDir, spec);
    return makeHandle(spec, await launchServer(spec, port, Date.now() + spec.startTimeoutMs));
  });
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

/** Starts the server on `requestedPort` (0: any) and waits until it is ready. */
async function launchServer(spec: ServerSpec, requestedPort: number, deadline: number): Promise<RunningServer> {
  const { dataDir } = spec;
  const announced = portAnnouncement('TRIBUTARY_SOLR_HTTP_PORT');
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
    takeStdoutLine: announced.take,
  });
  const ready = await awaitReady(jvm, {
    name: `Solr ${spec.solrVersion} (${requestedPort === 0 ? 'any port' : `port ${requestedPort}`})`,
    deadline,
    probe: async () => {
      const port = announced.port();
      if (port === undefined) return 'Solr has not announced its HTTP port yet';
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
    return describeProbeError(error);
  }
}

function makeHandle(spec: ServerSpec, first: RunningServer): LocalSolr {
  const port = first.port;
  const server = manageLocalServer({
    name: `Solr on port ${port}`,
    dataDir: spec.dataDir,
    first,
    restart: { launch: (deadline) => launchServer(spec, port, deadline), timeoutMs: spec.startTimeoutMs },
  });
  return {
    url: `http://127.0.0.1:${port}/solr`,
    port,
    collection: spec.cores[0] as string,
    cores: spec.cores,
    version: first.version,
    dataDir: spec.dataDir,
    ...server.controls,
    createCore: (name) =>
      server.serialized(async () => {
        if (!CORE_NAME.test(name)) throw new Error(`not a core name: ${JSON.stringify(name)}`);
        if (spec.cores.includes(name)) throw new Error(`core ${name} exists`);
        if (server.current() === undefined) throw new Error(`Solr on port ${port} is not running`);
        await copyConfigset(solrDeployDir(), path.join(spec.home, name));
        const query = new URLSearchParams({ action: 'CREATE', name, instanceDir: name, wt: 'json' });
        const response = await fetch(`http://127.0.0.1:${port}/solr/admin/cores?${query.toString()}`, { signal: AbortSignal.timeout(60_000) });
        if (!response.ok) throw new Error(`creating core ${name}: HTTP ${response.status} ${(await response.text()).slice(0, 500)}`);
        await response.arrayBuffer();
        spec.cores.push(name);
      }),
  };
}
