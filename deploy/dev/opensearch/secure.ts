/**
 * The secured mode of a local OpenSearch node (`startLocalOpenSearch({ secure: true })`): the OpenSearch
 * security plugin (org.opensearch.plugin:opensearch-security, a zip on Maven Central, unpacked once per
 * version into the cache), a per-run CA and node certificate (HTTPS and transport TLS), and a security
 * configuration of our own, written per run: no demo users, no demo certificates. The security index is
 * created from these files at first start (`plugins.security.allow_default_init_securityindex`), so no
 * securityadmin run and no admin certificate are needed.
 *
 * Users (random passwords per run, bcrypt-hashed by the plugin's own Hasher, see HashPasswords.java):
 * - `admin`: all_access, for tests to look at what arrived;
 * - `tributary`: the role {@link SINK_ROLE}, exactly what the Elasticsearch output needs;
 * - `reader`: may call `_bulk` and read the output's indices, but not write them nor install templates, to
 *   prove that a missing privilege is reported clearly.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { jdkTool, runProcess } from '../jvm/run-process.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** What a client needs to reach a secured node. */
export interface LocalOpenSearchSecurity {
  /** PEM of the per-run CA that signed the node's certificate (valid for 127.0.0.1 and localhost). */
  readonly caFile: string;
  /** all_access. */
  readonly admin: Credentials;
  /** Mapped to the role `tributary_writer` ({@link SINK_ROLE}): what the Elasticsearch output needs, nothing more. */
  readonly writer: Credentials;
  /** Mapped to `tributary_reader`: may call `_bulk` and read the output's indices, may not write them nor install templates. */
  readonly reader: Credentials;
}

/**
 * The minimal role of the Elasticsearch output (README "Elasticsearch / OpenSearch security" prints it; the
 * security test proves each permission is needed):
 * - cluster: `_bulk`, and installing its component and index templates;
 * - indices: its data streams and dated indices, created on first write (a data stream too: its creation
 *   through `_bulk` is checked as `indices:admin/create`), written with `create`, their mappings extended by
 *   dynamic fields. The data streams' backing indices (`.ds-…`) need no pattern of their own.
 * Not needed: `cluster:monitor/main` (`GET /`: the output takes a 403 there as "may index but not read
 * cluster info"). With `install_templates: false` the two template permissions can go; with `pipeline` set,
 * the start-up check needs `cluster:admin/ingest/pipeline/get` (without it the check is skipped and logged).
 */
/** A role as roles.yml spells it; one index_permissions entry is all the output's role has. */
export interface Role {
  readonly cluster_permissions: readonly string[];
  readonly index_permissions: readonly [{ readonly index_patterns: readonly string[]; readonly allowed_actions: readonly string[] }];
}

export const SINK_ROLE: Role = {
  cluster_permissions: ['indices:data/write/bulk', 'indices:admin/index_template/put', 'cluster:admin/component_template/put'],
  index_permissions: [
    {
      index_patterns: ['logs-*-*', 'metrics-*-*', 'tributary-*'],
      allowed_actions: ['indices:data/write/index', 'indices:data/write/bulk*', 'indices:admin/create', 'indices:admin/mapping/put'],
    },
  ],
};

/** May say hello and call `_bulk` (a cluster permission), but write nothing through it, nor install templates. */
const READER_ROLE = {
  cluster_permissions: ['cluster:monitor/main', 'indices:data/write/bulk'],
  index_permissions: [{ index_patterns: ['logs-*-*', 'metrics-*-*', 'tributary-*'], allowed_actions: ['read'] }],
};

const NODE_DN = 'CN=tributary-opensearch-node';
const CERT_DAYS = '2';
const TOOL_TIMEOUT_MS = 120_000;

async function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const result = await runProcess(command, args, Date.now() + TOOL_TIMEOUT_MS, options);
  if (result.code !== 0) throw new Error(`${path.basename(command)} ${args[0] ?? ''} exited with ${result.code}:\n${result.output}`);
  return result.output;
}

/**
 * The plugin's jars, unpacked from its zip (resolved by Maven into ~/.m2) into `<versionDir>/opensearch-security`
 * once: a complete dir is renamed into place, so a start racing another one never sees half of it.
 */
export async function securityPluginJars(versionDir: string, version: string): Promise<string[]> {
  const pluginDir = path.join(versionDir, 'opensearch-security');
  if (!(await exists(pluginDir))) {
    await fs.mkdir(versionDir, { recursive: true });
    const artifact = `org.opensearch.plugin:opensearch-security:${version}:zip`;
    const download = path.join(versionDir, `opensearch-security.${process.pid}.${randomBytes(4).toString('hex')}`);
    try {
      await fs.mkdir(download);
      await run('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${download}`, '-Dmdep.stripVersion=true']);
      const unpacked = path.join(download, 'unpacked');
      await fs.mkdir(unpacked);
      // `jar` (JDK) unpacks a zip into the working dir; no unzip needed on the machine.
      await run(jdkTool('jar'), ['xf', path.join(download, 'opensearch-security.zip')], { cwd: unpacked });
      await fs.rename(unpacked, pluginDir).catch(async (error: unknown) => {
        // Another start got there first: theirs is as good as ours.
        if (!(await exists(pluginDir))) throw error;
      });
    } finally {
      await fs.rm(download, { recursive: true, force: true });
    }
  }
  const entries = await fs.readdir(pluginDir);
  return entries.filter((name) => name.endsWith('.jar')).map((name) => path.join(pluginDir, name));
}

/**
 * The plugin's jars to append to the node's classpath: those the runner does not already bring under the
 * same file name (netty, the REST client, httpclient: the same versions), so each class comes from one jar.
 */
export function pluginClasspath(runnerClasspath: string, pluginJars: readonly string[]): string {
  const present = new Set(runnerClasspath.split(path.delimiter).map((entry) => path.basename(entry)));
  const extra = pluginJars.filter((jar) => !present.has(path.basename(jar)));
  return [runnerClasspath, ...extra].join(path.delimiter);
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * Writes into the node's config dir (before its first start; kept across restarts): `tls/` with the CA, the
 * node's certificate and key (PKCS#8, as the plugin wants them), `opensearch.yml` with the plugin's settings,
 * and `opensearch-security/` with the users, roles and mappings. `hasherClasspath` runs HashPasswords.java.
 */
export async function writeSecurityConfig(configDir: string, hasherClasspath: string): Promise<LocalOpenSearchSecurity> {
  const tlsDir = path.join(configDir, 'tls');
  await fs.mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(tlsDir, name);
  const openssl = (args: string[]) => run('openssl', args);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    CERT_DAYS,
    '-subj',
    '/CN=Tributary local OpenSearch CA',
  ]);
  await fs.writeFile(file('node.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('node.key'), '-out', file('node.csr'), '-subj', `/${NODE_DN.replace(',', '/')}`]);
  await openssl([
    'x509',
    '-req',
    '-in',
    file('node.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('node.pem'),
    '-days',
    CERT_DAYS,
    '-extfile',
    file('node.ext'),
  ]);

  const tls = (layer: 'transport' | 'http') => ({
    [`plugins.security.ssl.${layer}.pemcert_filepath`]: 'tls/node.pem',
    [`plugins.security.ssl.${layer}.pemkey_filepath`]: 'tls/node.key',
    [`plugins.security.ssl.${layer}.pemtrustedcas_filepath`]: 'tls/ca.pem',
  });
  const settings: Record<string, unknown> = {
    ...tls('transport'),
    // One node: its transport talks to itself only, by IP.
    'plugins.security.ssl.transport.enforce_hostname_verification': false,
    'plugins.security.ssl.http.enabled': true,
    ...tls('http'),
    'plugins.security.nodes_dn': [NODE_DN],
    // Create the security index from opensearch-security/*.yml at first start: no securityadmin, no admin certificate.
    'plugins.security.allow_default_init_securityindex': true,
    'plugins.security.audit.type': 'noop',
    // The admin user may manage users, roles and mappings over the REST API (_plugins/_security/api), as a test may want to.
    'plugins.security.restapi.roles_enabled': ['all_access'],
  };
  await fs.writeFile(
    path.join(configDir, 'opensearch.yml'),
    Object.entries(settings)
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}\n`)
      .join(''),
    { mode: 0o600 },
  );
  // Owner-only, as the plugin wants its files (it warns about each one that is not).
  for (const name of await fs.readdir(tlsDir)) await fs.chmod(path.join(tlsDir, name), 0o600);

  const users = {
    admin: { username: 'admin', password: randomBytes(12).toString('hex') },
    writer: { username: 'tributary', password: randomBytes(12).toString('hex') },
    reader: { username: 'reader', password: randomBytes(12).toString('hex') },
  };
  const [adminHash, writerHash, readerHash] = await bcrypt(hasherClasspath, [users.admin.password, users.writer.password, users.reader.password]);
  const securityDir = path.join(configDir, 'opensearch-security');
  await fs.mkdir(securityDir, { mode: 0o700 });
  const meta = (type: string) => ({ _meta: { type, config_version: 2 } });
  const files: Record<string, object> = {
    'config.yml': {
      ...meta('config'),
      config: {
        dynamic: {
          http: { anonymous_auth_enabled: false },
          authc: {
            basic_internal_auth_domain: {
              http_enabled: true,
              transport_enabled: true,
              order: 0,
              http_authenticator: { type: 'basic', challenge: true },
              authentication_backend: { type: 'intern' },
            },
          },
        },
      },
    },
    'internal_users.yml': {
      ...meta('internalusers'),
      [users.admin.username]: { hash: adminHash, backend_roles: [], description: 'all_access, for tests' },
      [users.writer.username]: { hash: writerHash, backend_roles: [], description: 'the Elasticsearch output' },
      [users.reader.username]: { hash: readerHash, backend_roles: [], description: 'read-only, for the missing-privilege test' },
    },
    'roles.yml': { ...meta('roles'), tributary_writer: SINK_ROLE, tributary_reader: READER_ROLE },
    'roles_mapping.yml': {
      ...meta('rolesmapping'),
      all_access: { users: [users.admin.username] },
      tributary_writer: { users: [users.writer.username] },
      tributary_reader: { users: [users.reader.username] },
    },
    'action_groups.yml': meta('actiongroups'),
    'tenants.yml': meta('tenants'),
    'nodes_dn.yml': meta('nodesdn'),
    'allowlist.yml': { ...meta('allowlist'), config: { enabled: false } },
    'audit.yml': { ...meta('audit'), config: { enabled: false } },
  };
  // JSON is YAML: no YAML writer needed.
  for (const [name, content] of Object.entries(files))
    await fs.writeFile(path.join(securityDir, name), `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  return { caFile: file('ca.pem'), ...users };
}

/** bcrypt hashes by the plugin's own Hasher, in one JVM (HashPasswords.java); the passwords go through the environment, not argv. */
async function bcrypt(classpath: string, passwords: readonly string[]): Promise<string[]> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  passwords.forEach((password, position) => (env[`TRIBUTARY_PASSWORD_${position}`] = password));
  const output = await run(jdkTool('java'), ['-Xmx64m', '-cp', classpath, 'HashPasswords', String(passwords.length)], { env });
  const hashes = output.split('\n').filter((line) => /^\$2[aby]\$\d\d\$/.test(line.trim()));
  if (hashes.length !== passwords.length) throw new Error(`HashPasswords printed ${hashes.length} bcrypt hashes for ${passwords.length} passwords:\n${output}`);
  return hashes.map((hash) => hash.trim());
}
