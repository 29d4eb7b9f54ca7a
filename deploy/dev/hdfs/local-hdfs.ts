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
 *
 * `secure: true` serves the web servers (WebHDFS on the namenode, the
 * datanode's, where CREATE/APPEND/OPEN are redirected) over HTTPS only
 * (`dfs.http.policy=HTTPS_ONLY`), with a per-run CA and keystore
 * (../jvm/server-tls.ts) named by an ssl-server.xml that Hadoop finds on the
 * classpath; `caFile` is what a client trusts. Authentication stays simple
 * (`user.name`): Kerberos is not part of this cluster.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { packageRoot } from '../../../shared/paths.js';
import { PROBE_TIMEOUT_MS, awaitReady, describeProbeError, spawnJvm, type JvmProcess } from '../jvm/jvm-process.js';
import {
  DEFAULT_START_TIMEOUT_MS,
  manageLocalServer,
  retryWhilePortInUse,
  startInOwnedTempDir,
  type RestartableServerControls,
  type LocalServerOptions,
} from '../jvm/local-server.js';
import { defaultCacheDir, isMavenVersion, resolveMavenClasspath } from '../jvm/maven-classpath.js';
import { pickFreePort, releasePorts } from '../jvm/ports.js';
import { makeServerTls } from '../jvm/server-tls.js';
import { exchange, type HttpResponse } from '../../../shared/http/exchange.js';

export interface LocalHdfsOptions extends LocalServerOptions {
  /** org.apache.hadoop:hadoop-client-minicluster version. Default: $HADOOP_VERSION ?? '3.5.0' (the first with Java 17 support). */
  hadoopVersion?: string;
  /** JVM heap (-Xms = -Xmx) for namenode and datanode together. Default 768. */
  heapMb?: number;
  /** WebHDFS over HTTPS only, with a per-run CA (see the top of this file). Default false. */
  secure?: boolean;
}

/** restart(): on the same namenode ports; files written before survive; ready once out of safe mode with its datanode registered. */
export interface LocalHdfs extends RestartableServerControls {
  /** `http://127.0.0.1:PORT` (`https://` when secure): the namenode's web address, where WebHDFS answers under /webhdfs/v1. No trailing slash. */
  readonly namenodeUrl: string;
  /** The namenode's web port: HTTP, or HTTPS when secure. */
  readonly httpPort: number;
  /** PEM of the per-run CA that signed the namenode's and datanode's certificate (for 127.0.0.1 and localhost); only when secure. */
  readonly caFile: string | undefined;
  /** The namenode's RPC port (`hdfs://127.0.0.1:PORT` for Hadoop clients). */
  readonly rpcPort: number;
  /** What the namenode reports as its software version, e.g. '3.5.0'. */
  readonly version: string;
  /** The cluster's own temp dir: hdfs.log, data/ (name and data dirs). Kept by kill(), removed by stop(). */
  readonly dataDir: string;
}

const DEFAULT_HADOOP_VERSION = '3.5.0';
const DEFAULT_HEAP_MB = 768;
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

  const classpath = await resolveMavenClasspath({
    pom: path.join(hdfsDir, 'pom.xml'),
    versionDir,
    properties: { 'hadoop.version': hadoopVersion },
    artifact: `org.apache.hadoop:hadoop-client-minicluster:${hadoopVersion}`,
  });
  return startInOwnedTempDir(TEMP_PREFIX, async (dataDir) => {
    const secure = options.secure === true ? await secureConf(dataDir) : undefined;
    const spec: ClusterSpec = {
      hadoopVersion,
      heapMb: options.heapMb ?? DEFAULT_HEAP_MB,
      // The conf dir first: Hadoop loads ssl-server.xml as a classpath resource.
      classpath: secure ? `${secure.confDir}${path.delimiter}${classpath}` : classpath,
      secure,
      logConfig: path.join(hdfsDir, 'log4j.properties'),
      dataDir,
      startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      onLog: options.onLog,
    };
    await fs.mkdir(path.join(dataDir, 'tmp'));
    const deadline = Date.now() + spec.startTimeoutMs;
    // The ports are ours to pick: a restart must come back on the same ones. Another process may take one between
    // our pick and the JVM's bind, so a bind failure picks again, at once, after clearing what the try formatted.
    const { ports, first } = await retryWhilePortInUse(
      deadline,
      async () => {
        const picked: Ports = { rpc: await pickFreePort(), http: await pickFreePort() };
        return { ports: picked, first: await launchCluster(spec, picked, true, deadline) };
      },
      () => fs.rm(path.join(dataDir, 'data'), { recursive: true, force: true }),
    );
    const cluster = manageLocalServer({
      name: `HDFS on port ${ports.http}`,
      dataDir,
      first,
      restart: { launch: (restartDeadline) => launchCluster(spec, ports, false, restartDeadline), timeoutMs: spec.startTimeoutMs },
      afterStop: () => releasePorts([ports.rpc, ports.http]),
    });
    const { rpc, http } = ports;
    return {
      namenodeUrl: webUrl(spec, http),
      httpPort: http,
      rpcPort: rpc,
      caFile: secure?.caFile,
      version: first.version,
      dataDir,
      ...cluster.controls,
    };
  });
}

interface ClusterSpec {
  hadoopVersion: string;
  heapMb: number;
  classpath: string;
  logConfig: string;
  dataDir: string;
  startTimeoutMs: number;
  onLog: ((line: string) => void) | undefined;
  secure: SecureConf | undefined;
}

interface SecureConf {
  /** Holds ssl-server.xml; first on the classpath. */
  confDir: string;
  caFile: string;
  /** The CA's PEM, for the launcher's own probe. */
  ca: Buffer;
}

/**
 * The per-run keystore and the ssl-server.xml naming it (owner-only: it holds the keystore password), read by
 * the namenode's web server and the datanode's alike. No truststore: no client certificates are asked for.
 */
async function secureConf(dataDir: string): Promise<SecureConf> {
  const tls = await makeServerTls(dataDir, 'Tributary local HDFS CA');
  const confDir = path.join(dataDir, 'conf');
  await fs.mkdir(confDir, { mode: 0o700 });
  const properties: Record<string, string> = {
    'ssl.server.keystore.type': 'pkcs12',
    'ssl.server.keystore.location': tls.keystoreFile,
    'ssl.server.keystore.password': tls.storePassword,
    'ssl.server.keystore.keypassword': tls.storePassword,
  };
  const xml = Object.entries(properties)
    .map(([name, value]) => `  <property><name>${name}</name><value>${value}</value></property>`)
    .join('\n');
  await fs.writeFile(path.join(confDir, 'ssl-server.xml'), `<?xml version="1.0"?>\n<configuration>\n${xml}\n</configuration>\n`, { mode: 0o600 });
  return { confDir, caFile: tls.caFile, ca: await fs.readFile(tls.caFile) };
}

function webUrl(spec: ClusterSpec, port: number): string {
  return `${spec.secure ? 'https' : 'http'}://127.0.0.1:${port}`;
}

/** The launcher's own GET (the readiness probe): over HTTPS, trusting the per-run CA, when secure. */
function webGet(spec: ClusterSpec, url: URL): Promise<HttpResponse> {
  return exchange({
    url,
    method: 'GET',
    tls: spec.secure ? { ca: spec.secure.ca } : undefined,
    timeoutMs: PROBE_TIMEOUT_MS,
    where: `GET ${url.origin}${url.pathname}`,
    maxBodyBytes: 4 * 1024 * 1024,
  });
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
      ...(spec.secure
        ? [
            '-D',
            'dfs.http.policy=HTTPS_ONLY',
            // Our port for the namenode (a restart comes back on it); any free one for the datanode, which the
            // namenode's redirects name. Hadoop's defaults are fixed ports (9871, 9865) other servers may hold.
            '-D',
            `dfs.namenode.https-address=127.0.0.1:${ports.http}`,
            '-D',
            'dfs.datanode.https.address=127.0.0.1:0',
          ]
        : []),
      '-writeDetails',
      details,
    ],
    onLog: spec.onLog,
  });
  const url = webUrl(spec, ports.http);
  return awaitReady(jvm, {
    name: `HDFS (hadoop-client-minicluster ${spec.hadoopVersion}, namenode ${spec.secure ? 'HTTPS' : 'HTTP'} port ${ports.http})`,
    deadline,
    probe: async () => {
      try {
        await fs.access(details);
      } catch {
        return 'the mini cluster has not written its details file yet';
      }
      const probe = await probeCluster(spec, url);
      return typeof probe === 'string' ? probe : { jvm, version: probe.version };
    },
    logFile: path.join(dataDir, 'hdfs.log'),
    portInUse: (output) => /BindException|Address already in use/.test(output),
  });
}

interface JmxBeans {
  beans?: Array<Record<string, unknown>>;
}

async function jmxBean(spec: ClusterSpec, url: string, query: string): Promise<Record<string, unknown> | string> {
  const response = await webGet(spec, new URL(`${url}/jmx?qry=${query}`));
  if (response.status !== 200) return `GET /jmx?qry=${query} answered ${response.status}`;
  const bean = (JSON.parse(response.body.toString('utf8')) as JmxBeans).beans?.[0];
  return bean ?? `GET /jmx?qry=${query} returned no bean`;
}

/**
 * Ready means writable: out of safe mode, a live datanode registered, and a
 * WebHDFS request answered. Returns the version or why not.
 */
async function probeCluster(spec: ClusterSpec, url: string): Promise<{ version: string } | string> {
  try {
    const info = await jmxBean(spec, url, 'Hadoop:service=NameNode,name=NameNodeInfo');
    if (typeof info === 'string') return info;
    if (info.Safemode !== '') return `the namenode is in safe mode: ${String(info.Safemode)}`;
    const state = await jmxBean(spec, url, 'Hadoop:service=NameNode,name=FSNamesystemState');
    if (typeof state === 'string') return state;
    if (typeof state.NumLiveDataNodes !== 'number' || state.NumLiveDataNodes < 1) return 'no live datanode yet';
    const list = await webGet(spec, new URL(`${url}/webhdfs/v1/?op=LISTSTATUS&user.name=tributary`));
    if (list.status !== 200) return `WebHDFS LISTSTATUS / answered ${list.status}: ${list.body.toString('utf8').slice(0, 300)}`;
    return { version: typeof info.SoftwareVersion === 'string' ? info.SoftwareVersion : 'unknown' };
  } catch (error) {
    return describeProbeError(error);
  }
}
