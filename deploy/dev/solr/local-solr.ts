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
 * The server: HTTP/1.1 on 127.0.0.1, context /solr, no authentication (unless
 * `secure`, below), one core per name in `cores`, each with the committed configset
 * (deploy/dev/solr/configset: schema with the event id as uniqueKey and typed
 * dynamic fields, an fsynced update log, soft commits, the `tolerant` update
 * chain). Its data (the solr home with the cores' indexes and update logs)
 * outlives kill() and restart().
 *
 * `secure: true` serves HTTPS only (Jetty SSL with a per-run CA and keystore,
 * ../jvm/server-tls.ts) and turns on Solr's BasicAuthPlugin (`blockUnknown`:
 * every request needs credentials) and RuleBasedAuthorizationPlugin through a
 * security.json written per run, with per-run random passwords for three
 * users: `admin` (every permission), `tributary` (only `update`: what the
 * Solr output needs) and `reader` (only `read`). `security` tells a client
 * the CA file and the credentials.
 */
import * as fs from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { basicAuthorization, exchange, type HttpResponse } from '../../../shared/http/exchange.js';
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
import { makeServerTls } from '../jvm/server-tls.js';

export interface LocalSolrOptions extends LocalServerOptions {
  /** org.apache.solr:solr-test-framework version. Default: $SOLR_VERSION ?? '9.10.1'. */
  solrVersion?: string;
  /** HTTP port; 0 or undefined lets Jetty bind one the OS picks (no race with other processes). */
  port?: number;
  /** JVM heap (-Xms = -Xmx). Default 512. */
  heapMb?: number;
  /** Cores to create with the committed configset. Default ['tributary']. */
  cores?: readonly string[];
  /** HTTPS with a per-run CA, basic auth and rule-based authorization (see the top of this file). Default false. */
  secure?: boolean;
}

export interface SolrUser {
  readonly username: string;
  readonly password: string;
}

/** What a client needs to reach a secured Solr; every secret is made per run. */
export interface LocalSolrSecurity {
  /** PEM of the per-run CA that signed the server's certificate (for 127.0.0.1 and localhost). */
  readonly caFile: string;
  /** Role `admin`: permission `all` (core admin, queries, updates). */
  readonly admin: SolrUser;
  /** Role `writer`: permission `update` only, the least the Solr output needs. */
  readonly writer: SolrUser;
  /** Role `reader`: permission `read` only (no `update`), for proving what a missing permission looks like. */
  readonly reader: SolrUser;
}

/**
 * kill(): acknowledged updates survive (the update log is fsynced per request
 * and replayed at the next start). restart(): resolves once every core
 * answers a query.
 */
export interface LocalSolr extends RestartableServerControls {
  /** `http://127.0.0.1:PORT/solr` (`https://` when secure), no trailing slash: a core's handlers are under `${url}/${core}/`. */
  readonly url: string;
  /** Only with `secure: true`. */
  readonly security: LocalSolrSecurity | undefined;
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
    if (options.secure === true) spec.secure = await secureHome(spec);
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
  secure?: SecureSpec;
}

interface SecureSpec {
  security: LocalSolrSecurity;
  keystoreFile: string;
  keystorePasswordFile: string;
  /** The CA's PEM, for the launcher's own requests (probe, createCore). */
  ca: Buffer;
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

/**
 * Solr's Sha256AuthenticationProvider credential: `base64(sha256(sha256(salt + password))) base64(salt)`, the
 * form `bin/solr auth` writes; computed here so each run has its own passwords.
 */
export function solrCredential(password: string, salt: Buffer = randomBytes(32)): string {
  const once = createHash('sha256').update(salt).update(password, 'utf8').digest();
  const twice = createHash('sha256').update(once).digest();
  return `${twice.toString('base64')} ${salt.toString('base64')}`;
}

/** The per-run keystore, users and security.json of secured mode. */
async function secureHome(spec: ServerSpec): Promise<SecureSpec> {
  const tls = await makeServerTls(spec.dataDir, 'Tributary local Solr CA');
  const keystorePasswordFile = path.join(path.dirname(tls.keystoreFile), 'keystore-password');
  await fs.writeFile(keystorePasswordFile, tls.storePassword, { mode: 0o600 });
  const user = (username: string): SolrUser => ({ username, password: randomBytes(12).toString('hex') });
  const security: LocalSolrSecurity = { caFile: tls.caFile, admin: user('admin'), writer: user('tributary'), reader: user('reader') };
  const securityJson = {
    authentication: {
      class: 'solr.BasicAuthPlugin',
      // Every request needs credentials, the probe's included: nothing is readable anonymously.
      blockUnknown: true,
      forwardCredentials: false,
      credentials: Object.fromEntries([security.admin, security.writer, security.reader].map((u) => [u.username, solrCredential(u.password)])),
    },
    authorization: {
      class: 'solr.RuleBasedAuthorizationPlugin',
      // The first permission that matches a request decides: `update` and `read` before the catch-all `all`.
      permissions: [
        { name: 'update', role: ['writer', 'admin'] },
        { name: 'read', role: ['reader', 'admin'] },
        { name: 'all', role: 'admin' },
      ],
      'user-role': { [security.admin.username]: ['admin'], [security.writer.username]: ['writer'], [security.reader.username]: ['reader'] },
    },
  };
  await fs.writeFile(path.join(spec.home, 'security.json'), `${JSON.stringify(securityJson, null, 2)}\n`, { mode: 0o600 });
  return { security, keystoreFile: tls.keystoreFile, keystorePasswordFile, ca: await fs.readFile(tls.caFile) };
}

/** A GET or POST of the launcher itself (probe, core admin): over HTTPS as `admin` when secure. */
function serverRequest(spec: ServerSpec, port: number, pathAndQuery: string, timeoutMs: number): Promise<HttpResponse> {
  const secure = spec.secure;
  const url = new URL(`${secure ? 'https' : 'http'}://127.0.0.1:${port}/solr${pathAndQuery}`);
  return exchange({
    url,
    method: 'GET',
    headers: secure ? { authorization: basicAuthorization(secure.security.admin.username, secure.security.admin.password) } : {},
    tls: secure ? { ca: secure.ca } : undefined,
    timeoutMs,
    where: `GET ${url.origin}${url.pathname}`,
    maxBodyBytes: 1024 * 1024,
  });
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
      // JettySolrRunner applies JettyConfig's SSLConfig only in its "test mode" connector set-up; without the
      // property it always serves plain HTTP. The property changes nothing else that matters here.
      ...(spec.secure ? ['-Djetty.testMode=true'] : []),
      '-cp',
      spec.classpath,
      LAUNCHER_CLASS,
      '--home',
      spec.home,
      '--port',
      String(requestedPort),
      ...(spec.secure ? ['--keystore', spec.secure.keystoreFile, '--keystore-password-file', spec.secure.keystorePasswordFile] : []),
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
  try {
    const info = await serverRequest(spec, port, '/admin/info/system?wt=json', PROBE_TIMEOUT_MS);
    if (info.status !== 200) return `GET /solr/admin/info/system answered ${info.status}`;
    const system = JSON.parse(info.body.toString('utf8')) as { solr_home?: unknown; lucene?: { 'solr-spec-version'?: unknown } };
    const home = typeof system.solr_home === 'string' ? path.resolve(system.solr_home) : undefined;
    if (home !== path.resolve(spec.home)) return `the server on port ${port} serves solr home ${String(system.solr_home)}, not ours (${spec.home})`;
    const version = system.lucene?.['solr-spec-version'];
    if (typeof version !== 'string') return 'GET /solr/admin/info/system reports no lucene.solr-spec-version';
    for (const core of spec.cores) {
      const query = await serverRequest(spec, port, `/${core}/select?q=*:*&rows=0&wt=json`, PROBE_TIMEOUT_MS);
      if (query.status !== 200) return `GET /solr/${core}/select answered ${query.status}: ${query.body.toString('utf8').slice(0, 300)}`;
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
    url: `${spec.secure ? 'https' : 'http'}://127.0.0.1:${port}/solr`,
    security: spec.secure?.security,
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
        const response = await serverRequest(spec, port, `/admin/cores?${query.toString()}`, 60_000);
        if (response.status !== 200) throw new Error(`creating core ${name}: HTTP ${response.status} ${response.body.toString('utf8').slice(0, 500)}`);
        spec.cores.push(name);
      }),
  };
}
