/**
 * A local HDFS for development, integration tests, the demo and benchmarks:
 * one namenode and one datanode in one JVM (Hadoop's own mini cluster,
 * `org.apache.hadoop.test.MiniDFSClusterManager` from the shaded
 * `hadoop-client-minicluster` jar), with WebHDFS on the namenode's HTTP port.
 * The classpath is resolved by Maven once per Hadoop version (and pom
 * content) and cached under cacheDir; every cluster gets its own temp dir and
 * its own ports, so any number of them may run side by side.
 *
 * The cluster: replication 1, permissions off (any `user.name` may write
 * anywhere), HTTP and RPC on 127.0.0.1. The datanode's ports are random (the
 * mini cluster picks them), so WebHDFS clients must follow the namenode's 307
 * redirect for CREATE, APPEND and OPEN, as they must with a real cluster.
 */
import * as fs from 'node:fs/promises';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../../../shared/paths.js';
import { JvmStartError, awaitReady, spawnJvm, type JvmProcess } from '../jvm/jvm-process.js';
import { defaultCacheDir, isMavenVersion, resolveMavenClasspath } from '../jvm/maven-classpath.js';
import { createOwnedTempDir, removeOwnedTempDir, sweepStaleTempDirs } from '../jvm/temp-dirs.js';

export interface LocalHdfsOptions {
  /** org.apache.hadoop:hadoop-client-minicluster version. Default: $HADOOP_VERSION ?? '3.5.0' (the first with Java 17 support). */
  hadoopVersion?: string;
  /** JVM heap (-Xms = -Xmx) for namenode and datanode together. Default 768. */
  heapMb?: number;
  /** Where resolved classpaths live. Default: $TRIBUTARY_CACHE_DIR ?? ~/.cache/tributary. */
  cacheDir?: string;
  /** Receives the cluster's stderr lines (WARN and above; INFO goes to hdfs.log in the data dir). */
  onLog?: (line: string) => void;
  /** Bound on JVM start + readiness, for start() and for each restart() (not on a first Maven download). Default 120 s. */
  startTimeoutMs?: number;
}

export interface LocalHdfs {
  /** `http://127.0.0.1:PORT`: the namenode's HTTP address, where WebHDFS answers under /webhdfs/v1. No trailing slash. */
  readonly namenodeUrl: string;
  /** The namenode's HTTP port. */
  readonly httpPort: number;
  /** The namenode's RPC port (`hdfs://127.0.0.1:PORT` for Hadoop clients). */
  readonly rpcPort: number;
  /** What the namenode reports as its software version, e.g. '3.5.0'. */
  readonly version: string;
  /** The cluster's own temp dir: hdfs.log, data/ (name and data dirs). Kept by kill(), removed by stop(). */
  readonly dataDir: string;
  /** Idempotent: SIGTERM, wait for exit (SIGKILL after 20 s), remove the temp dir. */
  stop(): Promise<void>;
  /** Freezes the cluster (SIGSTOP): connections are accepted but nothing answers. */
  pause(): void;
  /** Lets a paused cluster run again (SIGCONT). */
  resume(): void;
  /** The cluster dies (SIGKILL): connections are refused from then on, the data dir stays. */
  kill(): Promise<void>;
  /**
   * Starts the cluster again on the same namenode ports with the same data
   * (files written before survive) and resolves once it is out of safe mode
   * with its datanode registered. A running cluster is stopped first (SIGTERM).
   */
  restart(): Promise<void>;
}

const DEFAULT_HADOOP_VERSION = '3.5.0';
const DEFAULT_HEAP_MB = 768;
const DEFAULT_START_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 5_000;
const PORT_RETRY_MS = 1_000;
const TEMP_PREFIX = 'tributary-hdfs-';
const MAIN_CLASS = 'org.apache.hadoop.test.MiniDFSClusterManager';

/**
 * What Hadoop's own scripts pass on Java 17 (HADOOP-19310): the servers reach
 * into these JDK internals by reflection (Netty, the block reader's direct
 * buffers, Kerberos helpers, the JMX and metrics code).
 */
const JAVA17_OPENS = [
  'java.base/java.lang',
  'java.base/java.lang.reflect',
  'java.base/java.io',
  'java.base/java.net',
  'java.base/java.nio',
  'java.base/java.util',
  'java.base/java.util.concurrent',
  'java.base/java.util.concurrent.atomic',
  'java.base/sun.nio.ch',
  'java.base/sun.nio.cs',
  'java.base/sun.security.action',
  'java.base/sun.util.calendar',
].map((module) => `--add-opens=${module}=ALL-UNNAMED`);

export async function startLocalHdfs(options: LocalHdfsOptions = {}): Promise<LocalHdfs> {
  const hadoopVersion = options.hadoopVersion ?? process.env.HADOOP_VERSION ?? DEFAULT_HADOOP_VERSION;
  if (!isMavenVersion(hadoopVersion)) throw new Error(`not a Hadoop version: ${JSON.stringify(hadoopVersion)}`);
  const hdfsDir = path.join(packageRoot(), 'deploy', 'dev', 'hdfs');
  const versionDir = path.join(options.cacheDir ?? defaultCacheDir(), `hadoop-minicluster-${hadoopVersion}`);

  await sweepStaleTempDirs(TEMP_PREFIX);
  const classpath = await resolveMavenClasspath({
    pom: path.join(hdfsDir, 'pom.xml'),
    versionDir,
    properties: { 'hadoop.version': hadoopVersion },
    artifact: `org.apache.hadoop:hadoop-client-minicluster:${hadoopVersion}`,
  });

  const dataDir = await createOwnedTempDir(TEMP_PREFIX);
  const spec: ClusterSpec = {
    hadoopVersion,
    heapMb: options.heapMb ?? DEFAULT_HEAP_MB,
    classpath,
    logConfig: path.join(hdfsDir, 'log4j.properties'),
    dataDir,
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    onLog: options.onLog,
  };
  try {
    await fs.mkdir(path.join(dataDir, 'tmp'));
    const deadline = Date.now() + spec.startTimeoutMs;
    // The ports are ours to pick: a restart must come back on the same ones. Another process may take one between
    // our pick and the JVM's bind, so a bind failure picks again.
    for (;;) {
      const ports = { rpc: await pickFreePort(), http: await pickFreePort() };
      try {
        const running = await launchCluster(spec, ports, true, deadline);
        return makeHandle(spec, ports, running);
      } catch (error) {
        if (!(error instanceof JvmStartError && error.portInUse && Date.now() + PORT_RETRY_MS < deadline)) throw error;
        await fs.rm(path.join(dataDir, 'data'), { recursive: true, force: true });
      }
    }
  } catch (error) {
    await removeOwnedTempDir(dataDir);
    throw error;
  }
}

interface ClusterSpec {
  hadoopVersion: string;
  heapMb: number;
  classpath: string;
  logConfig: string;
  dataDir: string;
  startTimeoutMs: number;
  onLog: ((line: string) => void) | undefined;
}

interface Ports {
  rpc: number;
  http: number;
}

interface RunningCluster {
  jvm: JvmProcess;
  version: string;
}

async function launchCluster(spec: ClusterSpec, ports: Ports, format: boolean, deadline: number): Promise<RunningCluster> {
  const { dataDir } = spec;
  const details = path.join(dataDir, 'cluster.json');
  // Written by MiniDFSClusterManager once the cluster is up: its presence says this JVM (not an earlier one) started.
  await fs.rm(details, { force: true });
  const jvm = await spawnJvm({
    dir: dataDir,
    args: [
      `-Xms${spec.heapMb}m`,
      `-Xmx${spec.heapMb}m`,
      '-XX:+UseG1GC',
      '-XX:+ExitOnOutOfMemoryError',
      ...JAVA17_OPENS,
      '-Djava.net.preferIPv4Stack=true',
      `-Djava.io.tmpdir=${path.join(dataDir, 'tmp')}`,
      `-Dlog4j.configuration=file:${spec.logConfig}`,
      `-Dhdfs.log.file=${path.join(dataDir, 'hdfs.log')}`,
      // MiniDFSCluster keeps its name and data dirs under <test.build.data>/dfs.
      `-Dtest.build.data=${path.join(dataDir, 'data')}`,
      '-cp',
      spec.classpath,
      MAIN_CLASS,
      ...(format ? ['-format'] : []),
      '-datanodes',
      '1',
      '-nnport',
      String(ports.rpc),
      '-httpport',
      String(ports.http),
      '-D',
      'dfs.replication=1',
      '-D',
      'dfs.permissions.enabled=false',
      '-D',
      'dfs.namenode.rpc-bind-host=127.0.0.1',
      '-D',
      'dfs.datanode.hostname=127.0.0.1',
      '-writeDetails',
      details,
    ],
    onLog: spec.onLog,
  });
  const url = `http://127.0.0.1:${ports.http}`;
  return awaitReady(jvm, {
    name: `HDFS (hadoop-client-minicluster ${spec.hadoopVersion}, namenode HTTP port ${ports.http})`,
    deadline,
    probe: async () => {
      try {
        await fs.access(details);
      } catch {
        return 'the mini cluster has not written its details file yet';
      }
      const probe = await probeCluster(url);
      return typeof probe === 'string' ? probe : { jvm, version: probe.version };
    },
    logFile: path.join(dataDir, 'hdfs.log'),
    portInUse: (output) => /BindException|Address already in use/.test(output),
  });
}

interface JmxBeans {
  beans?: Array<Record<string, unknown>>;
}

async function jmxBean(url: string, query: string): Promise<Record<string, unknown> | string> {
  const response = await fetch(`${url}/jmx?qry=${query}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  if (!response.ok) return `GET /jmx?qry=${query} answered ${response.status}`;
  const bean = ((await response.json()) as JmxBeans).beans?.[0];
  return bean ?? `GET /jmx?qry=${query} returned no bean`;
}

/**
 * Ready means writable: out of safe mode, a live datanode registered, and a
 * WebHDFS request answered. Returns the version or why not.
 */
async function probeCluster(url: string): Promise<{ version: string } | string> {
  try {
    const info = await jmxBean(url, 'Hadoop:service=NameNode,name=NameNodeInfo');
    if (typeof info === 'string') return info;
    if (info.Safemode !== '') return `the namenode is in safe mode: ${String(info.Safemode)}`;
    const state = await jmxBean(url, 'Hadoop:service=NameNode,name=FSNamesystemState');
    if (typeof state === 'string') return state;
    if (typeof state.NumLiveDataNodes !== 'number' || state.NumLiveDataNodes < 1) return 'no live datanode yet';
    const list = await fetch(`${url}/webhdfs/v1/?op=LISTSTATUS&user.name=tributary`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!list.ok) return `WebHDFS LISTSTATUS / answered ${list.status}: ${(await list.text()).slice(0, 300)}`;
    await list.arrayBuffer().catch(() => undefined);
    return { version: typeof info.SoftwareVersion === 'string' ? info.SoftwareVersion : 'unknown' };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return error instanceof Error ? `${error.name}: ${error.message}${cause}` : String(error);
  }
}

function makeHandle(spec: ClusterSpec, ports: Ports, first: RunningCluster): LocalHdfs {
  let current: RunningCluster | undefined = first;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };
  const stopCurrent = async (): Promise<void> => {
    await current?.jvm.stop();
    current = undefined;
  };
  return {
    namenodeUrl: `http://127.0.0.1:${ports.http}`,
    httpPort: ports.http,
    rpcPort: ports.rpc,
    version: first.version,
    dataDir: spec.dataDir,
    stop: () => {
      stopping ??= serialized(async () => {
        stopped = true;
        await stopCurrent();
        await removeOwnedTempDir(spec.dataDir);
        releasePorts([ports.rpc, ports.http]);
      });
      return stopping;
    },
    pause: () => current?.jvm.signal('SIGSTOP'),
    resume: () => current?.jvm.signal('SIGCONT'),
    kill: () =>
      serialized(async () => {
        await current?.jvm.kill();
        current = undefined;
      }),
    restart: () =>
      serialized(async () => {
        if (stopped) throw new Error(`HDFS on port ${ports.http} was stopped (its data dir removed); start a new one`);
        await stopCurrent();
        const deadline = Date.now() + spec.startTimeoutMs;
        // The ports were released when the JVM died; someone may hold one for a moment.
        for (;;) {
          try {
            current = await launchCluster(spec, ports, false, deadline);
            return;
          } catch (error) {
            if (!(error instanceof JvmStartError && error.portInUse && Date.now() + PORT_RETRY_MS < deadline)) throw error;
            await sleep(PORT_RETRY_MS);
          }
        }
      }),
  };
}

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

function releasePorts(list: number[]): void {
  for (const port of list) reservedPorts.delete(port);
}
