import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { solrOutputSchema } from '../../collector/outputs/solr/config.js';
import { SolrSink } from '../../collector/outputs/solr/solr-sink.js';
import { startLocalSolr, type LocalSolr, type SolrUser } from '../../deploy/dev/solr/local-solr.js';
import { basicAuthorization, exchange } from '../../shared/http/exchange.js';
import { makeTestCertificates } from '../../shared/test-support/tls-certificates.js';
import { testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { logRecord } from '../helpers/records.js';
import { capturingLogger, outgoing } from '../helpers/sinks.js';

/**
 * The Solr sink against a real secured Solr 9 (`startLocalSolr({ secure: true })`: Jetty HTTPS with a per-run
 * CA, BasicAuthPlugin with blockUnknown, RuleBasedAuthorizationPlugin): the writer user with only the `update`
 * permission indexes over HTTPS; wrong credentials, a user without `update`, an unknown CA and a wrong server
 * name each keep the sink not ready with one error naming what to fix.
 */

const id = (n: number): string => `5ec${n.toString(16).padStart(29, '0')}`;

describe('SolrSink against a secured Solr 9', () => {
  let solr: LocalSolr;
  let started: LocalSolr | undefined;
  let dir: string;
  let ca: Buffer;
  const sinks: SolrSink[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-solr-security-'));
    solr = started = await startLocalSolr({ secure: true });
    ca = await readFile(security().caFile);
  }, 300_000);

  afterAll(async () => {
    for (const sink of sinks) await sink.stop();
    await started?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function security() {
    const value = solr.security;
    if (value === undefined) throw new Error('the secured Solr reports no security');
    return value;
  }

  /** A GET as `user` (or anonymous) over HTTPS, trusting the run's CA. */
  async function get(pathAndQuery: string, user: SolrUser | undefined): Promise<{ status: number; body: string }> {
    const url = new URL(`${solr.url}${pathAndQuery}`);
    const response = await exchange({
      url,
      method: 'GET',
      headers: user ? { authorization: basicAuthorization(user.username, user.password) } : {},
      tls: { ca },
      timeoutMs: 30_000,
      where: `GET ${url.pathname}`,
      maxBodyBytes: 16 * 1024 * 1024,
    });
    return { status: response.status, body: response.body.toString('utf8') };
  }

  function createSink(config: Record<string, unknown>) {
    const { metrics } = testComponentMetrics('sink');
    const { logger, lines } = capturingLogger('info');
    const parsed = solrOutputSchema.parse({
      type: 'solr',
      endpoints: [solr.url],
      collection: solr.collection,
      retry: { initial_backoff: '100ms', max_backoff: '500ms' },
      ...config,
    });
    const sink = new SolrSink('solr_secure', parsed, metrics, logger);
    sinks.push(sink);
    return { sink, lines };
  }

  /**
   * Starts a sink that cannot pass its start-up check: waits for the first retry logged at error, asserts it
   * is not ready, stops it, and returns the logged reason.
   */
  async function refusedAtStart(config: Record<string, unknown>): Promise<string> {
    const { sink, lines } = createSink(config);
    const starting = sink.start().then(
      () => 'started',
      (error: unknown) => error,
    );
    const line = await vi.waitFor(
      () => {
        const found = lines.map((text) => JSON.parse(text) as { level: number; msg: string; err?: string }).find((entry) => entry.err !== undefined);
        if (found === undefined) throw new Error('no start-up retry logged yet');
        return found;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(sink.ready()).toBe(false);
    // 50: error, not warn (40): waiting will not fix it.
    expect(line.level).toBe(50);
    expect(line.msg).toBe('Solr start-up checks failed; retrying');
    await sink.stop();
    expect(await starting).not.toBe('started');
    return line.err as string;
  }

  it('refuses anonymous requests (blockUnknown) and lets admin query', async () => {
    expect((await get(`/${solr.collection}/select?q=*:*&wt=json`, undefined)).status).toBe(401);
    expect((await get(`/${solr.collection}/select?q=*:*&wt=json`, security().admin)).status).toBe(200);
  });

  it('indexes over HTTPS as the writer, which holds only the update permission', async () => {
    const passwordFile = join(dir, 'writer-password');
    await writeFile(passwordFile, `${security().writer.password}\n`, { mode: 0o600 });
    const { sink } = createSink({
      auth: { basic: { username: security().writer.username, password_file: passwordFile } },
      tls: { ca_file: security().caFile },
    });
    await sink.start();
    expect(sink.ready()).toBe(true);
    const ids = Array.from({ length: 40 }, (_, n) => id(n));
    const result = await sink.write(ids.map((recordId, n) => outgoing(logRecord({ id: recordId, body: `secured line ${n}` }))));
    expect(result.rejected).toEqual([]);
    expect(sink.ready()).toBe(true);
    // The writer may not read: the proof goes through admin, after a commit.
    expect((await get(`/${solr.collection}/select?q=*:*&rows=0&wt=json`, security().writer)).status).toBe(403);
    expect((await get(`/${solr.collection}/update?commit=true&wt=json`, security().admin)).status).toBe(200);
    const found = JSON.parse((await get(`/${solr.collection}/select?q=id:5ec*&rows=100&fl=id,body_t&sort=id+asc&wt=json`, security().admin)).body) as {
      response: { numFound: number; docs: Array<{ id: string; body_t: string }> };
    };
    expect(found.response.numFound).toBe(40);
    expect(found.response.docs.map((doc) => doc.id)).toEqual(ids);
    expect(found.response.docs[7]?.body_t).toBe('secured line 7');
  });

  it('wrong credentials: not ready, one error naming auth.basic', async () => {
    const reason = await refusedAtStart({
      auth: { basic: { username: security().writer.username, password: 'not-the-password' } },
      tls: { ca_file: security().caFile },
    });
    expect(reason).toBe(
      `POST ${solr.url}/${solr.collection}/update: 401 Bad credentials: Solr refused the credentials of user "tributary": check outputs.solr_secure.auth.basic`,
    );
  });

  it('a user without the update permission: not ready, one error naming the missing permission', async () => {
    const reason = await refusedAtStart({
      auth: { basic: { username: security().reader.username, password: security().reader.password } },
      tls: { ca_file: security().caFile },
    });
    expect(reason).toBe(
      `POST ${solr.url}/${solr.collection}/update: 403 Unauthorized request, Response code: 403: user "reader" may not update collection ` +
        `${solr.collection}: with Solr's RuleBasedAuthorizationPlugin, give one of the user's roles the "update" permission (see outputs.solr_secure.auth.basic)`,
    );
  });

  it('an unknown CA: not ready, one error naming tls.ca_file', async () => {
    const otherDir = await mkdtemp(join(dir, 'other-ca-'));
    const other = await makeTestCertificates(otherDir, 'localhost');
    const reason = await refusedAtStart({
      auth: { basic: security().writer },
      tls: { ca_file: other.caFile },
    });
    expect(reason).toBe(
      `POST ${solr.url}/${solr.collection}/update: TLS failed: the server's certificate is not signed by a CA the client trusts: ` +
        'check outputs.solr_secure.tls.ca_file (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain)',
    );
  });

  it('a wrong server name: not ready, one error naming tls.server_name and endpoints', async () => {
    const reason = await refusedAtStart({
      auth: { basic: security().writer },
      tls: { ca_file: security().caFile, server_name: 'solr.example.com' },
    });
    expect(reason).toMatch(
      new RegExp(
        `^POST ${solr.url.replace(/[.]/g, '\\.')}/${solr.collection}/update: TLS failed: the server's certificate does not name the host connected to: ` +
          `check outputs\\.solr_secure\\.tls\\.server_name and outputs\\.solr_secure\\.endpoints \\(ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: Host: solr\\.example\\.com\\. is not in the cert's altnames: IP Address:127\\.0\\.0\\.1, DNS:localhost\\)$`,
      ),
    );
  });
});
