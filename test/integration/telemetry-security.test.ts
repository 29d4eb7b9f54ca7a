import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates } from '../../shared/test-support/tls-certificates.js';
import { brokers, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, writeYaml, type RunningProcess } from '../helpers/processes.js';
import { queryPrometheus, startPrometheus, type RunningServer } from '../helpers/prometheus.js';

/** GET over https trusting only `ca`, answering the status (0 when the connection fails). */
function httpsStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const outgoing = request(url, { ca, servername: 'localhost', agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', () => resolve(0));
    outgoing.end();
  });
}

/**
 * The telemetry endpoint over TLS with credentials, scraped by a real Prometheus (Debian's 2.42) the way an
 * operator would configure it: `scheme: https`, `tls_config.ca_file`, and `basic_auth` or `authorization`.
 */
describe('telemetry over TLS with credentials, scraped by a real Prometheus', () => {
  let dir: string;
  let caFile: string;
  let ca: Buffer;
  const agents: RunningProcess[] = [];
  let prometheus: RunningServer | undefined;
  let basicPort: number;
  let bearerPort: number;

  async function startAgent(name: string, port: number, auth: Record<string, unknown>): Promise<RunningProcess> {
    const logDir = join(dir, `${name}-logs`);
    await mkdir(logDir, { recursive: true });
    const config = await writeYaml(join(dir, `${name}.yaml`), {
      agent: { id: `telemetry-${name}`, data_dir: join(dir, `${name}-data`) },
      kafka: { brokers: brokers() },
      sources: { app: { type: 'file', include: [join(logDir, '*.log')] } },
      output: { topic: uniqueName('telemetry-security') },
      telemetry: { port, listen_address: '127.0.0.1', tls: { cert_file: join(dir, 'server.pem'), key_file: join(dir, 'server.key') }, auth },
    });
    const agent = startCli('agent', config);
    agents.push(agent);
    await waitFor(`agent ${name} to answer /readyz over https`, async () => {
      if (agent.child.exitCode !== null) throw new Error(`agent ${name} exited with ${agent.child.exitCode}:\n${agent.stderr()}`);
      // 401 is an answer too: with `probes: true` the probe itself needs the token.
      return [200, 401].includes(await httpsStatus(`https://127.0.0.1:${port}/readyz`, ca)) ? true : undefined;
    });
    return agent;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-telemetry-security-'));
    caFile = (await makeTestCertificates(dir, 'localhost')).caFile;
    ca = await readFile(caFile);
    await writeFile(join(dir, 'password'), 'scrape-password\n');
    await writeFile(join(dir, 'token'), 'scrape-token\n');
    await writeFile(join(dir, 'wrong'), 'not-the-secret\n');
    basicPort = await freePort();
    bearerPort = await freePort();
    await startAgent('basic', basicPort, { basic_auth: { username: 'prometheus', password_file: join(dir, 'password') } });
    await startAgent('bearer', bearerPort, { bearer_token_file: join(dir, 'token'), probes: true });

    // Prometheus reaches the agents as `localhost`, the name their certificate is for.
    const job = (name: string, port: number, credentials: Record<string, unknown>) => ({
      job_name: name,
      scheme: 'https',
      tls_config: { ca_file: caFile },
      static_configs: [{ targets: [`localhost:${port}`] }],
      ...credentials,
    });
    prometheus = await startPrometheus([
      job('basic-right', basicPort, { basic_auth: { username: 'prometheus', password_file: join(dir, 'password') } }),
      job('basic-wrong', basicPort, { basic_auth: { username: 'prometheus', password_file: join(dir, 'wrong') } }),
      job('basic-none', basicPort, {}),
      job('bearer-right', bearerPort, { authorization: { type: 'Bearer', credentials_file: join(dir, 'token') } }),
      job('bearer-wrong', bearerPort, { authorization: { type: 'Bearer', credentials_file: join(dir, 'wrong') } }),
      // Without the CA, Prometheus must refuse the agent's certificate.
      {
        job_name: 'basic-untrusted',
        scheme: 'https',
        static_configs: [{ targets: [`localhost:${basicPort}`] }],
        basic_auth: { username: 'prometheus', password_file: join(dir, 'password') },
      },
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents) await agent.stop('SIGTERM');
    await prometheus?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function upByJob(): Promise<Record<string, string>> {
    const results = await queryPrometheus(prometheus as RunningServer, 'up');
    return Object.fromEntries(results.map((result) => [result.metric.job ?? '', result.value[1]]));
  }

  it('scrapes with the right credentials (up = 1) and not with wrong, missing or untrusted ones (up = 0)', async () => {
    const expected = { 'basic-right': '1', 'basic-wrong': '0', 'basic-none': '0', 'bearer-right': '1', 'bearer-wrong': '0', 'basic-untrusted': '0' };
    const up = await waitFor('every job to have been scraped', async () => {
      const now = await upByJob();
      return Object.keys(expected).every((job) => job in now) ? now : undefined;
    });
    expect(up).toEqual(expected);

    // Each failure for its own reason: refused credentials are a 401, the untrusted certificate a TLS error.
    const targets = (await (await fetch(`${(prometheus as RunningServer).url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: Array<{ labels: Record<string, string>; lastError: string }> };
    };
    const errors = Object.fromEntries(targets.data.activeTargets.map((target) => [target.labels.job ?? '', target.lastError]));
    for (const job of ['basic-wrong', 'basic-none', 'bearer-wrong']) expect(errors[job]).toBe('server returned HTTP status 401 Unauthorized');
    expect(errors['basic-untrusted']).toMatch(/x509: certificate signed by unknown authority/);
    expect(errors['basic-right']).toBe('');

    // The agents' own series reached Prometheus through the authenticated scrapes only.
    for (const job of ['basic-right', 'bearer-right']) {
      const series = await queryPrometheus(prometheus as RunningServer, `tributary_event_loop_delay_seconds{job="${job}"}`);
      expect(series.map((result) => result.metric.quantile).sort()).toEqual(['0.5', '0.99', '1']);
    }
    for (const job of ['basic-wrong', 'basic-none', 'bearer-wrong', 'basic-untrusted']) {
      expect(await queryPrometheus(prometheus as RunningServer, `{job="${job}", __name__=~"tributary_.+"}`)).toEqual([]);
    }
  });

  it('keeps probes open with auth by default, and guards them with auth.probes: true', async () => {
    expect(await httpsStatus(`https://127.0.0.1:${basicPort}/healthz`, ca)).toBe(200);
    expect(await httpsStatus(`https://127.0.0.1:${basicPort}/metrics`, ca)).toBe(401);
    expect(await httpsStatus(`https://127.0.0.1:${bearerPort}/healthz`, ca)).toBe(401);
  });
});
