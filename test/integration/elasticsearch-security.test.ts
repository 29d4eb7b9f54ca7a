import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elasticsearchOutputSchema } from '../../collector/outputs/elasticsearch/config.js';
import { ElasticsearchSink } from '../../collector/outputs/elasticsearch/elasticsearch-sink.js';
import {
  SINK_ROLE,
  startLocalOpenSearch,
  type Credentials,
  type Role,
  type LocalOpenSearch,
  type LocalOpenSearchSecurity,
} from '../../deploy/dev/opensearch/local-opensearch.js';
import { basicAuthorization, exchange } from '../../shared/http/exchange.js';
import { sampleValue, testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { waitFor } from '../../shared/test-support/wait.js';
import { logRecord, metricRecord } from '../helpers/records.js';
import { capturingLogger, outgoing } from '../helpers/sinks.js';

/**
 * The Elasticsearch output against a real secured OpenSearch 2.19 (its security plugin: HTTPS with the
 * run's CA, internal users, roles), one node for the whole file: indexing over HTTPS with basic auth as a
 * user holding only the documented minimal role; a wrong password, a missing privilege and certificate
 * problems each block the output with readiness false and an error that says what to fix.
 */

const id = (prefix: string, n: number): string => `${prefix}${n.toString(16).padStart(32 - prefix.length, '0')}`;

let server: LocalOpenSearch;
let security: LocalOpenSearchSecurity;
let dir: string;
let caPem: string;
const sinks: ElasticsearchSink[] = [];

/** A request as the admin user (all_access), trusting the run's CA: how the test looks at what arrived. */
async function asAdmin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const url = new URL(`${server.url}${path}`);
  const response = await exchange({
    url,
    method,
    headers: {
      authorization: basicAuthorization(security.admin.username, security.admin.password),
      accept: 'application/json',
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    payload: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    tls: { ca: caPem },
    timeoutMs: 30_000,
    where: `${method} ${url.pathname}`,
    maxBodyBytes: 16 * 1024 * 1024,
  });
  const text = response.body.toString('utf8');
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function idsIn(target: string): Promise<string[]> {
  await asAdmin('POST', `/${target}/_refresh`);
  const reply = await asAdmin('GET', `/${target}/_search?size=10000&_source=false&sort=_doc`);
  expect(reply.status).toBe(200);
  return (reply.body as { hits: { hits: Array<{ _id: string }> } }).hits.hits.map((hit) => hit._id).sort();
}

/** A password file holding `password`, so a test can change it under a running sink. */
async function passwordFile(name: string, password: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return file;
}

async function createSink(user: Credentials, config: Record<string, unknown> = {}) {
  const { families, metrics } = testComponentMetrics('sink');
  const { logger, lines } = capturingLogger('info');
  const password = await passwordFile(`${user.username}-${sinks.length}`, user.password);
  const parsed = elasticsearchOutputSchema.parse({
    type: 'elasticsearch',
    endpoints: [server.url],
    auth: { basic: { username: user.username, password_file: password } },
    tls: { ca_file: security.caFile },
    retry: { initial_backoff: '200ms', max_backoff: '1s' },
    ...config,
  });
  const sink = new ElasticsearchSink('secure', parsed, metrics, logger);
  sinks.push(sink);
  return { sink, families, logs: lines, passwordFile: password };
}

/** Starts `sink` in the background: a blocked start-up retries until stop(), so it is not awaited here. */
function startInBackground(sink: ElasticsearchSink): { settled: Promise<unknown> } {
  return {
    settled: sink.start().then(
      () => 'started',
      (error: unknown) => error,
    ),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-es-security-'));
  const started = Date.now();
  // The security plugin makes the start slower (TLS, the security index); two shared cores need the room.
  server = await startLocalOpenSearch({ secure: true, startTimeoutMs: 400_000 });
  console.info(`secured OpenSearch ready in ${Date.now() - started} ms`);
  security = server.security as LocalOpenSearchSecurity;
  caPem = await readFile(security.caFile, 'utf8');
}, 600_000);

afterAll(async () => {
  for (const sink of sinks) await sink.stop();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('ElasticsearchSink against a secured OpenSearch', () => {
  it('indexes over HTTPS with basic auth as a user holding only the minimal role: data streams and dated indices, exact ids', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { sink, families } = await createSink(security.writer, { data_stream: { dataset: 'secure', namespace: 'it' } });
    await sink.start();
    expect(sink.ready()).toBe(true);
    const logs = Array.from({ length: 500 }, (_, n) => outgoing(logRecord({ id: id('a', n), body: `secured ${n}`, attributes: { n } })));
    const metrics = Array.from({ length: 20 }, (_, n) => outgoing(metricRecord({ id: id('b', n), name: 'secured_gauge', value: n })));
    expect(await sink.write([...logs, ...metrics])).toEqual({ rejected: [] });
    expect(await idsIn('logs-secure-it')).toEqual(logs.map((record) => record.record.id).sort());
    expect(await idsIn('metrics-secure-it')).toEqual(metrics.map((record) => record.record.id).sort());
    // A replay creates nothing: 409 per item, counted as written.
    expect(await sink.write(logs.slice(0, 10))).toEqual({ rejected: [] });
    expect(await idsIn('logs-secure-it')).toHaveLength(500);
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(530);

    // Index mode with the default names: the role's `tributary-*` pattern.
    const { sink: dated } = await createSink(security.writer, { mode: 'index' });
    await dated.start();
    const dayRecords = [1, 2, 3].map((n) => outgoing(logRecord({ id: id('c', n), timestamp: '2026-11-23T10:00:00Z' })));
    expect(await dated.write(dayRecords)).toEqual({ rejected: [] });
    expect(await idsIn('tributary-logs-2026.11.23')).toEqual([id('c', 1), id('c', 2), id('c', 3)]);
    expect(dated.ready()).toBe(true);
  }, 180_000);

  it('a wrong password blocks start-up with readiness false and the 401 in the log; the corrected password file brings it up', async () => {
    const {
      sink,
      logs,
      passwordFile: file,
    } = await createSink({ username: security.writer.username, password: 'not-the-password' }, { data_stream: { dataset: 'badpass', namespace: 'it' } });
    const start = startInBackground(sink);
    await waitFor('a logged 401', () => logs.some((line) => line.includes('HTTP 401')), 60_000, 100);
    expect(sink.ready()).toBe(false);
    expect(logs.find((line) => line.includes('HTTP 401'))).toContain(
      `GET ${server.url}/: HTTP 401 Unauthorized (the server refused the credentials: check auth.basic)`,
    );
    expect(logs.join('')).not.toContain('not-the-password');
    // The operator fixes the file; the sink re-reads it after a 401 and carries on without a restart.
    await writeFile(file, `${security.writer.password}\n`);
    expect(await start.settled).toBe('started');
    expect(sink.ready()).toBe(true);
    expect(await sink.write([outgoing(logRecord({ id: id('d', 1) }))])).toEqual({ rejected: [] });
    expect(await idsIn('logs-badpass-it')).toEqual([id('d', 1)]);
  }, 120_000);

  it('a role without the template privileges: start-up is blocked, readiness false, and the error names the missing privilege', async () => {
    const { sink, logs } = await createSink(security.reader, { data_stream: { dataset: 'reader', namespace: 'it' } });
    const start = startInBackground(sink);
    await waitFor(
      'the missing privilege in the log',
      () => logs.some((line) => line.includes('no permissions for [cluster:admin/component_template/put]')),
      60_000,
      100,
    );
    expect(sink.ready()).toBe(false);
    const line = logs.find((text) => text.includes('no permissions for')) as string;
    expect(line).toContain(
      `PUT ${server.url}/_component_template/tributary-logs-mappings: 403 security_exception: no permissions for [cluster:admin/component_template/put] and User [name=reader`,
    );
    expect(line).toContain('set install_templates: false to manage templates yourself');
    await sink.stop();
    expect(await start.settled).toMatchObject({ code: 'SHUTDOWN' });
  }, 120_000);

  it('a role that may call _bulk but not write the indices: records wait, readiness false, the error names the missing privilege', async () => {
    const { sink, logs } = await createSink(security.reader, { data_stream: { dataset: 'reader', namespace: 'it' }, install_templates: false });
    await sink.start();
    let outcome: unknown;
    const writing = sink.write([1, 2, 3].map((n) => outgoing(logRecord({ id: id('e', n) })))).then(
      (result) => (outcome = result),
      (error: unknown) => (outcome = error),
    );
    await waitFor('the refused write in the log', () => logs.some((line) => line.includes('Elasticsearch refuses requests')), 60_000, 100);
    expect(sink.ready()).toBe(false);
    expect(outcome).toBeUndefined();
    const refused = JSON.parse(logs.find((line) => line.includes('Elasticsearch refuses requests')) as string) as { reason: string };
    // The first write creates the data stream: the first privilege missing is the one for that.
    expect(refused.reason).toBe(
      '403 security_exception: no permissions for [indices:admin/create] and User [name=reader, backend_roles=[], requestedTenant=null]',
    );
    await sink.stop();
    await writing;
    expect(outcome).toMatchObject({ code: 'SHUTDOWN' });
    expect((await asAdmin('GET', '/logs-reader-it/_count')).status).toBe(404);
  }, 120_000);

  it('needs every permission of the minimal role: without any one of them the output is blocked, not ready, naming the one missing', async () => {
    const [index] = SINK_ROLE.index_permissions;
    const all = [...SINK_ROLE.cluster_permissions, ...index.allowed_actions];
    const users: Credentials[] = [];
    // A role, a user and a mapping per case, through the security plugin's REST API (as the admin); one
    // at a time, as concurrent changes to the security index conflict (409).
    for (const [n, dropped] of all.entries()) {
      const role: Role = {
        cluster_permissions: SINK_ROLE.cluster_permissions.filter((permission) => permission !== dropped),
        index_permissions: [{ ...index, allowed_actions: index.allowed_actions.filter((permission) => permission !== dropped) }],
      };
      const user = { username: `minimal${n}`, password: `Aa1!${randomBytes(12).toString('hex')}` };
      expect((await asAdmin('PUT', `/_plugins/_security/api/roles/minimal${n}`, role)).status).toBe(201);
      expect((await asAdmin('PUT', `/_plugins/_security/api/internalusers/${user.username}`, { password: user.password })).status).toBe(201);
      expect((await asAdmin('PUT', `/_plugins/_security/api/rolesmapping/minimal${n}`, { users: [user.username] })).status).toBe(201);
      users.push(user);
    }
    const cases = await Promise.all(
      all.map(async (dropped, n) => {
        // Index mode, a name of its own: the first write creates the index and maps a new field.
        const { sink, logs } = await createSink(users[n] as Credentials, { mode: 'index', index: `tributary-minimal${n}-{yyyy.MM.dd}` });
        const writing = sink
          .start()
          .then(() => sink.write([outgoing(logRecord({ id: id('f', n), attributes: { [`field${n}`]: n } }))]))
          .catch((error: unknown) => error);
        return { named: dropped.replace('bulk*', 'bulk[s]'), sink, logs, writing };
      }),
    );
    for (const { named, logs } of cases) {
      await waitFor(`the missing ${named} in the log`, () => logs.some((line) => line.includes(`no permissions for [${named}]`)), 90_000, 100);
    }
    for (const { sink, writing } of cases) {
      expect(sink.ready()).toBe(false);
      await sink.stop();
      expect(await writing).toMatchObject({ code: 'SHUTDOWN' });
    }
  }, 180_000);

  it('certificate problems (unknown CA, wrong server name) block start-up with readiness false and an error naming the key', async () => {
    const { sink: untrusted, logs: untrustedLogs } = await createSink(security.writer, { tls: undefined });
    const { sink: misnamed, logs: misnamedLogs } = await createSink(security.writer, { tls: { ca_file: security.caFile, server_name: 'opensearch.invalid' } });
    const starts = [startInBackground(untrusted), startInBackground(misnamed)];
    await waitFor('the unknown CA in the log', () => untrustedLogs.some((line) => line.includes('TLS failed')), 60_000, 100);
    await waitFor('the wrong name in the log', () => misnamedLogs.some((line) => line.includes('TLS failed')), 60_000, 100);
    expect(untrusted.ready()).toBe(false);
    expect(misnamed.ready()).toBe(false);
    expect(untrustedLogs.join('')).toContain(
      `GET ${server.url}/: TLS failed: the server's certificate is not signed by a CA the client trusts: check outputs.secure.tls.ca_file (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate)`,
    );
    expect(misnamedLogs.join('')).toContain(
      `GET ${server.url}/: TLS failed: the server's certificate does not name the host connected to: check outputs.secure.tls.server_name and outputs.secure.endpoints (ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: Host: opensearch.invalid.`,
    );
    for (const sink of [untrusted, misnamed]) await sink.stop();
    for (const start of starts) expect(await start.settled).toMatchObject({ code: 'SHUTDOWN' });
  }, 120_000);
});
