import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSolr, type LocalSolr } from '../../deploy/dev/solr/local-solr.js';
import { basicAuthorization, exchange } from '../../shared/http/exchange.js';
import { waitFor } from '../helpers/kafka.js';
import { metricValue, type RunningProcess } from '../helpers/processes.js';
import { sinkPipeline } from '../helpers/pipeline.js';

/**
 * Files → agent → Kafka → collector → a real secured Solr 9 (HTTPS with a
 * per-run CA, BasicAuthPlugin, RuleBasedAuthorizationPlugin), through the
 * real processes: the collector's writer user, which holds only the `update`
 * permission, indexes every line over HTTPS with its password from a file.
 */
describe('Solr sink end to end against a secured Solr (HTTPS, basic auth, update permission only)', () => {
  let solr: LocalSolr | undefined;
  const running: RunningProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    solr = await startLocalSolr({ cores: ['e2e_secure'], secure: true });
  }, 300_000);

  afterAll(async () => {
    await Promise.all(running.map((process_) => process_.stop('SIGKILL')));
    await solr?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** GET as admin over HTTPS, trusting the run's CA. */
  async function adminGet(server: LocalSolr, pathAndQuery: string): Promise<string> {
    const security = server.security;
    if (!security) throw new Error('no security');
    const url = new URL(`${server.url}${pathAndQuery}`);
    const response = await exchange({
      url,
      method: 'GET',
      headers: { authorization: basicAuthorization(security.admin.username, security.admin.password) },
      tls: { ca: await readFile(security.caFile) },
      timeoutMs: 30_000,
      where: `GET ${url.pathname}`,
      maxBodyBytes: 16 * 1024 * 1024,
    });
    if (response.status !== 200) throw new Error(`${url.pathname} answered ${response.status}`);
    return response.body.toString('utf8');
  }

  async function count(server: LocalSolr): Promise<number> {
    return (JSON.parse(await adminGet(server, '/e2e_secure/select?q=*:*&rows=0&wt=json')) as { response: { numFound: number } }).response.numFound;
  }

  it('indexes every appended line exactly once as the update-only writer', async () => {
    const server = solr as LocalSolr;
    const security = server.security;
    if (!security) throw new Error('no security');
    const secrets = await mkdtemp(join(tmpdir(), 'tributary-e2e-solr-secure-'));
    dirs.push(secrets);
    const passwordFile = join(secrets, 'solr-password');
    await writeFile(passwordFile, security.writer.password, { mode: 0o600 });
    const run = await sinkPipeline({
      sink: 'solr',
      name: 'secure',
      dirPrefix: 'tributary-e2e-solr-secure-',
      service: 'e2e-secure',
      outputs: {
        search: {
          type: 'solr',
          endpoints: [server.url],
          collection: 'e2e_secure',
          commit_within: '500ms',
          retry: { initial_backoff: '200ms', max_backoff: '2s' },
          tls: { ca_file: security.caFile },
          auth: { basic: { username: security.writer.username, password_file: passwordFile } },
        },
      },
      running,
      dirs,
    });
    await run.startCollector();
    await run.startAgent();
    const lines = 2_000;
    let text = '';
    for (let index = 0; index < lines; index++) text += `secure line ${index}\n`;
    await appendFile(run.logFile, text);
    await waitFor('every line indexed', async () => ((await count(server)) === lines ? true : undefined), 120_000, 250);
    const found = JSON.parse(await adminGet(server, '/e2e_secure/select?q=body_t:%22secure+line+42%22&fl=body_t&wt=json')) as {
      response: { docs: Array<{ body_t: string }> };
    };
    expect(found.response.docs.map((doc) => doc.body_t)).toEqual(['secure line 42']);
    await adminGet(server, '/e2e_secure/update?commit=true&wt=json');
    expect(await count(server)).toBe(lines);
    const metrics = await (await fetch(`http://127.0.0.1:${run.collectorPort}/metrics`)).text();
    expect(metricValue(metrics, 'tributary_component_sent_events_total', { component_id: 'search' })).toBe(lines);
  }, 180_000);
});
