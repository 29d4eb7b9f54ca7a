import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AlertingMetrics } from '../../collector/alerting/alerting-metrics.js';
import type { WebhookNotifierConfig } from '../../collector/alerting/notifiers/config.js';
import { alertNotifierSchema } from '../../collector/alerting/notifiers/registry.js';
import { firingAlert, metricSample, resolvedAlert } from '../../collector/alerting/notifiers/test-support.js';
import { WebhookNotifier, type WebhookPayload } from '../../collector/alerting/notifiers/webhook-notifier.js';
import { validateConfig } from '../../shared/config/load.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { makeTestCertificates } from '../../shared/test-support/tls-certificates.js';
import { alertRecordErrors } from '../helpers/schemas.js';
import { listenLocal } from '../../shared/test-support/ports.js';

interface Received {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: WebhookPayload;
}

/**
 * The webhook notifier as a user configures it: YAML-shaped config with
 * secrets from the environment, over HTTPS with a private CA, to a receiver
 * that refuses the first delivery with 503.
 */
describe('WebhookNotifier over HTTPS, configured from the environment', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let caFile: string;
  const received: Received[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-alert-webhook-'));
    const certificates = await makeTestCertificates(dir, 'hooks.test');
    server = createServer({ key: certificates.key, cert: certificates.cert }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ method: request.method ?? '', headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload });
        response.writeHead(received.length === 1 ? 503 : 204).end();
      });
    });
    await listenLocal(server);
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/tributary`;
    caFile = certificates.caFile;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers schema-valid records with the token and headers from the environment, retrying a 503', async () => {
    const document = {
      type: 'webhook',
      url: '${HOOK_URL}',
      headers: { 'X-Tenant': '${TENANT:-ops}' },
      bearer_token: '${HOOK_TOKEN}',
      tls: { ca_file: '${TRIBUTARY_TEST_CA}', server_name: 'hooks.test' },
      retry: { initial_backoff: '10ms', max_backoff: '50ms' },
    };
    const config = validateConfig(z.strictObject({ notifier: alertNotifierSchema }), { notifier: document }, 'collector.yaml', {
      ...process.env,
      HOOK_URL: url,
      HOOK_TOKEN: 's3cret',
      TRIBUTARY_TEST_CA: caFile,
    }).notifier as WebhookNotifierConfig;
    const alerting = new AlertingMetrics(new Registry());
    const notifier = new WebhookNotifier('hook', config, { metrics: alerting.notifier('hook'), logger: silentLogger() });
    await notifier.start();
    const records = [firingAlert(), resolvedAlert()];
    try {
      notifier.notify(records);
      await notifier.flush();
    } finally {
      await notifier.stop();
    }
    expect(received).toHaveLength(2);
    expect(received[1]?.method).toBe('POST');
    expect(received[1]?.headers.authorization).toBe('Bearer s3cret');
    expect(received[1]?.headers['x-tenant']).toBe('ops');
    expect(received[1]?.body).toEqual({ version: '1', generator: 'collector-1', alerts: records });
    for (const alert of received[1]?.body.alerts ?? []) expect(alertRecordErrors(alert)).toBeUndefined();
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'hook', outcome: 'sent' })).toBe(2);
  });
});
