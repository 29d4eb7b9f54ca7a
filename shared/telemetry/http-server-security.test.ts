import { execFileSync } from 'node:child_process';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, validateConfig } from '../config/load.js';
import { telemetrySchema, type TelemetryAuthConfig } from '../config/schema.js';
import { makeTestCertificates, type TestCertificates } from '../test-support/tls-certificates.js';
import { startTelemetryServer, type TelemetryServer, type TelemetryServerOptions } from './http-server.js';
import { PipelineMetrics } from './metrics.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET over https to 127.0.0.1 (certificates are for `localhost`), trusting only `ca`. */
function get(server: TelemetryServer, path: string, options: { ca: Buffer; authorization?: string; cert?: Buffer; key?: Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        servername: 'localhost',
        ca: options.ca,
        ...(options.cert && { cert: options.cert, key: options.key }),
        // A fresh connection each time, so a reloaded certificate is what the handshake sees.
        agent: false,
        headers: options.authorization === undefined ? {} : { authorization: options.authorization },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const healthy = { live: () => true, ready: () => true };

describe('telemetry server over TLS with credentials', () => {
  let dir: string;
  let certs: TestCertificates;
  let ca: Buffer;
  let certFile: string;
  let keyFile: string;
  const servers: TelemetryServer[] = [];

  async function start(options: Omit<TelemetryServerOptions, 'listen_address' | 'port'>): Promise<TelemetryServer> {
    const metrics = new PipelineMetrics('agent');
    const server = await startTelemetryServer({ listen_address: '127.0.0.1', port: 0, ...options }, metrics.registry, healthy);
    servers.push(server);
    return server;
  }

  const tls = () => ({ cert_file: certFile, key_file: keyFile });
  const auth = (value: Partial<TelemetryAuthConfig>): TelemetryAuthConfig => ({ probes: false, ...value });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemetry-tls-'));
    certs = await makeTestCertificates(dir, 'localhost');
    ca = await readFile(certs.caFile);
    certFile = join(dir, 'server.pem');
    keyFile = join(dir, 'server.key');
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves https with basic auth on /metrics, answering 401 with a challenge for missing or wrong credentials', async () => {
    const server = await start({ tls: tls(), auth: auth({ basic_auth: { username: 'prometheus', password: 'right-password' } }) });
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);

    const missing = await get(server, '/metrics', { ca });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Basic realm="tributary", charset="UTF-8"');
    expect((await get(server, '/metrics', { ca, authorization: basic('prometheus', 'wrong-password') })).status).toBe(401);
    expect((await get(server, '/metrics', { ca, authorization: basic('someone', 'right-password') })).status).toBe(401);
    expect((await get(server, '/metrics', { ca, authorization: 'Bearer right-password' })).status).toBe(401);
    expect((await get(server, '/nothing', { ca })).status).toBe(401);

    const ok = await get(server, '/metrics', { ca, authorization: basic('prometheus', 'right-password') });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('# TYPE tributary_component_errors_total counter');
  });

  it('leaves /healthz and /readyz open by default and guards them with probes: true', async () => {
    const open = await start({ tls: tls(), auth: auth({ bearer_token: 'token-1' }) });
    expect(await get(open, '/healthz', { ca })).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get(open, '/readyz', { ca })).toMatchObject({ status: 200, body: 'ok\n' });

    const guarded = await start({ tls: tls(), auth: auth({ bearer_token: 'token-1', probes: true }) });
    for (const path of ['/healthz', '/readyz']) {
      const refused = await get(guarded, path, { ca });
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="tributary"');
      expect(await get(guarded, path, { ca, authorization: 'Bearer token-1' })).toMatchObject({ status: 200, body: 'ok\n' });
    }
  });

  it('checks bearer tokens, the scheme case-insensitively', async () => {
    const server = await start({ tls: tls(), auth: auth({ bearer_token: 'token-1' }) });
    expect((await get(server, '/metrics', { ca, authorization: 'Bearer token-2' })).status).toBe(401);
    expect((await get(server, '/metrics', { ca, authorization: 'Bearer token-' })).status).toBe(401);
    expect((await get(server, '/metrics', { ca, authorization: 'bearer token-1' })).status).toBe(200);
  });

  it('picks up a rotated password_file and bearer_token_file without a restart', async () => {
    const passwordFile = join(dir, 'password');
    const tokenFile = join(dir, 'token');
    await writeFile(passwordFile, 'first-password\n');
    await writeFile(tokenFile, 'first-token\n');
    const byPassword = await start({ tls: tls(), auth: auth({ basic_auth: { username: 'prometheus', password_file: passwordFile } }) });
    const byToken = await start({ tls: tls(), auth: auth({ bearer_token_file: tokenFile }) });
    expect((await get(byPassword, '/metrics', { ca, authorization: basic('prometheus', 'first-password') })).status).toBe(200);
    expect((await get(byToken, '/metrics', { ca, authorization: 'Bearer first-token' })).status).toBe(200);

    await writeFile(passwordFile, 'second-password-longer\n');
    await writeFile(tokenFile, 'second-token-longer\n');
    expect((await get(byPassword, '/metrics', { ca, authorization: basic('prometheus', 'first-password') })).status).toBe(401);
    expect((await get(byPassword, '/metrics', { ca, authorization: basic('prometheus', 'second-password-longer') })).status).toBe(200);
    expect((await get(byToken, '/metrics', { ca, authorization: 'Bearer first-token' })).status).toBe(401);
    expect((await get(byToken, '/metrics', { ca, authorization: 'Bearer second-token-longer' })).status).toBe(200);

    // A secret that disappears lets nobody in (503, not the old password) until it is back.
    await rm(passwordFile);
    expect((await get(byPassword, '/metrics', { ca, authorization: basic('prometheus', 'second-password-longer') })).status).toBe(503);
    // Nor does an empty one let an empty password in.
    await writeFile(passwordFile, '\n');
    expect((await get(byPassword, '/metrics', { ca, authorization: basic('prometheus', '') })).status).toBe(503);
    await writeFile(passwordFile, 'third-password\n');
    expect((await get(byPassword, '/metrics', { ca, authorization: basic('prometheus', 'third-password') })).status).toBe(200);
  });

  it('fails to start when a secret file is empty', async () => {
    await writeFile(join(dir, 'empty-token'), '\n');
    await expect(start({ auth: auth({ bearer_token_file: join(dir, 'empty-token') }) })).rejects.toThrow(
      `telemetry.auth.bearer_token_file ${join(dir, 'empty-token')} is empty`,
    );
  });

  it('fails to start when a secret file cannot be read, naming the key and not the content', async () => {
    await expect(start({ auth: auth({ bearer_token_file: join(dir, 'missing-token') }) })).rejects.toThrow(
      `cannot read telemetry.auth.bearer_token_file ${join(dir, 'missing-token')}: `,
    );
  });

  it('serves a renewed certificate to new connections without a restart, keeping the old one while the files do not match', async () => {
    const rotatingDir = await mkdtemp(join(dir, 'rotating-'));
    const rotatingCert = join(rotatingDir, 'tls.crt');
    const rotatingKey = join(rotatingDir, 'tls.key');
    await writeFile(rotatingCert, certs.cert);
    await writeFile(rotatingKey, certs.key);
    const logLines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
    const server = await start({ tls: { cert_file: rotatingCert, key_file: rotatingKey }, tlsReloadIntervalMs: 50, logger });
    const messages = () => logLines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect((await get(server, '/healthz', { ca })).status).toBe(200);

    const renewed = await makeTestCertificates(await mkdtemp(join(dir, 'renewed-')), 'localhost');
    const renewedCa = await readFile(renewed.caFile);
    // Half a renewal: the new certificate beside the old key cannot load; the old pair keeps serving.
    // Each file replaced whole (write, then rename), as a secret volume or cert-manager does.
    const replace = async (path: string, content: Buffer) => {
      await writeFile(`${path}.new`, content);
      await rename(`${path}.new`, path);
    };
    await replace(rotatingCert, renewed.cert);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await get(server, '/healthz', { ca })).status).toBe(200);
    // Said once however many checks see the same files, and without the key's content.
    expect(messages()).toEqual(['telemetry TLS certificate changed but cannot be loaded; keeping the previous one']);
    expect(logLines.join('')).not.toContain('PRIVATE KEY');

    await replace(rotatingKey, renewed.key);
    let answeredWithNew = false;
    for (let attempt = 0; attempt < 100 && !answeredWithNew; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answeredWithNew = await get(server, '/healthz', { ca: renewedCa }).then(
        (reply) => reply.status === 200,
        () => false,
      );
    }
    expect(answeredWithNew).toBe(true);
    expect(messages()).toEqual(['telemetry TLS certificate changed but cannot be loaded; keeping the previous one', 'telemetry TLS certificate reloaded']);
    await expect(get(server, '/healthz', { ca })).rejects.toThrow(/self-signed certificate in certificate chain|unable to verify|certificate/);
  });

  it('with client_ca_file, refuses clients without a certificate that CA signed', async () => {
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=prometheus']);
    run(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '1']);
    const server = await start({ tls: { ...tls(), client_ca_file: certs.caFile } });
    await expect(get(server, '/healthz', { ca })).rejects.toThrow();
    const reply = await get(server, '/healthz', { ca, cert: await readFile(join(dir, 'client.pem')), key: await readFile(join(dir, 'client.key')) });
    expect(reply).toMatchObject({ status: 200, body: 'ok\n' });
  });
});

describe('telemetry tls and auth configuration', () => {
  const schema = z.strictObject({ telemetry: telemetrySchema });
  const problems = (telemetry: unknown) => {
    try {
      validateConfig(schema, { telemetry }, 'agent.yaml');
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    return 'valid';
  };

  it('refuses a key without a certificate, naming the key', () => {
    expect(problems({ tls: { key_file: '/etc/tributary/tls.key' } })).toBe(
      'invalid configuration in agent.yaml:\n  agent.yaml: telemetry.tls.cert_file: required key is missing (expected string)',
    );
  });

  it('refuses both password and password_file, and two kinds of credentials, without echoing them', () => {
    const both = problems({ auth: { basic_auth: { username: 'prometheus', password: 'hunter2-canary', password_file: '/run/secrets/p' } } });
    expect(both).toBe('invalid configuration in agent.yaml:\n  agent.yaml: telemetry.auth.basic_auth: set exactly one of password or password_file');
    const two = problems({ auth: { bearer_token: 'hunter2-canary', bearer_token_file: '/run/secrets/t' } });
    expect(two).toBe('invalid configuration in agent.yaml:\n  agent.yaml: telemetry.auth: set exactly one of basic_auth, bearer_token or bearer_token_file');
    expect(problems({ auth: { probes: true } })).toBe(
      'invalid configuration in agent.yaml:\n  agent.yaml: telemetry.auth: set exactly one of basic_auth, bearer_token or bearer_token_file',
    );
  });

  it('defaults to plain http without credentials, and probes open when auth is set', () => {
    expect(telemetrySchema.parse(undefined)).toEqual({ listen_address: '127.0.0.1', port: 9464, log_level: 'info', tap: false });
    expect(telemetrySchema.parse({ auth: { bearer_token_file: '/run/secrets/t' } }).auth).toEqual({ bearer_token_file: '/run/secrets/t', probes: false });
  });
});
