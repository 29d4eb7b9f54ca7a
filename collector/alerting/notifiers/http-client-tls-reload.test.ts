import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/telemetry/logger.js';
import { closeLocal, listenLocal } from '../../../shared/test-support/ports.js';
import { makeTestCertificates, makeTestClientCertificate } from '../../../shared/test-support/tls-certificates.js';
import { waitFor } from '../../../shared/test-support/wait.js';
import { webhookNotifierSchema } from './config.js';
import { NotifierHttpClient } from './http-client.js';

/**
 * A notifier's client certificate renewed (to one of a new CA) while it runs, against a real node:https receiver
 * requiring client certificates: the half-finished renewal (new certificate, old key) is refused and the old pair
 * kept; the complete one is presented on the next connection, without reopening the client.
 */
describe('notifier HTTP client while its tls.cert_file and key_file are renewed (real mutual-TLS receiver)', () => {
  it('keeps the old pair through a half-finished renewal and presents the new certificate once complete', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'notifier-tls-reload-'));
    let server: Server | undefined;
    let client: NotifierHttpClient | undefined;
    try {
      await mkdir(join(dir, 'ca1'));
      await mkdir(join(dir, 'ca2'));
      const serverCertificates = await makeTestCertificates(join(dir, 'ca1'), 'receiver.test');
      const oldClient = await makeTestClientCertificate(join(dir, 'ca1'), 'notifier-1');
      const newCa = await makeTestCertificates(join(dir, 'ca2'), 'unused.test');
      const newClient = await makeTestClientCertificate(join(dir, 'ca2'), 'notifier-2');
      // The receiver trusts client certificates of both CAs, so each answer names the one the client presents. Each
      // answer closes its connection: every request shows the certificate of the moment.
      const trusted = [await readFile(serverCertificates.caFile), await readFile(newCa.caFile)];
      const options = { key: serverCertificates.key, cert: serverCertificates.cert, ca: trusted, requestCert: true, rejectUnauthorized: true };
      const receiver = createServer(options, (request, response) => {
        const name = request.socket instanceof TLSSocket ? String(request.socket.getPeerCertificate().subject.CN) : 'not TLS';
        response.setHeader('connection', 'close').end(name);
      });
      server = receiver;
      const port = await listenLocal(receiver);

      const mounted = { cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
      await copyFile(oldClient.certFile, mounted.cert);
      await copyFile(oldClient.keyFile, mounted.key);
      const lines: string[] = [];
      const logger = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
      const messages = () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
      const config = webhookNotifierSchema.parse({
        type: 'webhook',
        url: `https://127.0.0.1:${port}/hook`,
        tls: { ca_file: serverCertificates.caFile, cert_file: mounted.cert, key_file: mounted.key, server_name: 'receiver.test' },
      });
      client = new NotifierHttpClient(config, undefined, { intervalMs: 100, logger });
      await client.open();
      const { target } = NotifierHttpClient.target(config.url);
      const send = () => client?.send(target, 'POST', '{}', {}, AbortSignal.timeout(5_000));

      expect(await send()).toMatchObject({ status: 200, body: 'notifier-1' });
      await copyFile(newClient.certFile, mounted.cert);
      await waitFor('the half-finished renewal refused', () =>
        messages().includes('TLS files changed but cannot be loaded; new connections keep the previous ones'),
      );
      // The old pair is still the one presented.
      expect(await send()).toMatchObject({ status: 200, body: 'notifier-1' });
      await copyFile(newClient.keyFile, mounted.key);
      await waitFor('the complete renewal loaded', () => messages().includes('TLS files reloaded; new connections use them'));
      expect(await send()).toMatchObject({ status: 200, body: 'notifier-2' });
      expect(lines.join('')).not.toContain('PRIVATE KEY');
    } finally {
      client?.close();
      await closeLocal(server);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
