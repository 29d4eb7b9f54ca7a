import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../shared/test-support/ports.js';
import { webhookNotifierSchema } from './config.js';
import { FakeReceiver, firingAlert, metricSample, pendingAlert, resolvedAlert, resolvedFromPendingAlert, testDependencies } from './test-support.js';
import { WebhookNotifier, type WebhookPayload } from './webhook-notifier.js';

describe('WebhookNotifier', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(extra: Record<string, unknown> = {}, url?: string) {
    const receiver = await new FakeReceiver().start();
    cleanups.push(() => receiver.stop());
    const config = webhookNotifierSchema.parse({
      type: 'webhook',
      url: url ?? `${receiver.url}/hook`,
      retry: { initial_backoff: '5ms', max_backoff: '20ms' },
      ...extra,
    });
    const dependencies = testDependencies('hook');
    const notifier = new WebhookNotifier('hook', config, dependencies);
    cleanups.push(() => notifier.stop());
    await notifier.start();
    return { receiver, notifier, alerting: dependencies.alerting };
  }

  it('POSTs {version, generator, alerts} with the configured headers; pending alerts only with send_pending', async () => {
    const { receiver, notifier, alerting } = await setup({ headers: { 'X-Team': 'payments' } });
    const records = [pendingAlert(), firingAlert(), resolvedFromPendingAlert(), resolvedAlert()];
    notifier.notify(records);
    await notifier.flush();
    expect(receiver.requests.map(({ method, url, headers }) => [method, url, headers['content-type'], headers['x-team']])).toEqual([
      ['POST', '/hook', 'application/json', 'payments'],
    ]);
    expect(receiver.bodies<WebhookPayload>()).toEqual([{ version: '1', generator: 'collector-1', alerts: [records[1], records[3]] }]);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'hook', outcome: 'sent' })).toBe(2);

    const withPending = await setup({ send_pending: true, method: 'PUT' });
    withPending.notifier.notify(records);
    await withPending.notifier.flush();
    expect(withPending.receiver.requests[0]?.method).toBe('PUT');
    expect(withPending.receiver.bodies<WebhookPayload>()[0]?.alerts).toEqual(records);
  });

  it('waits as long as Retry-After says (longer than its own backoff) before retrying a 429', async () => {
    const { receiver, notifier, alerting } = await setup();
    receiver.respond({ status: 429, headers: { 'retry-after': '1' } });
    notifier.notify([firingAlert()]);
    await notifier.flush();
    const [first, second] = receiver.requests;
    expect(receiver.requests).toHaveLength(2);
    // The configured backoff is at most 20ms; only Retry-After explains a wait of a second.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(990);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'hook', outcome: 'sent' })).toBe(1);
  });

  it('retries refused connections up to max_attempts, then counts the alerts as failed', async () => {
    const port = await freePort();
    const { notifier, alerting } = await setup({ retry: { max_attempts: 3, initial_backoff: '1ms', max_backoff: '2ms' } }, `http://127.0.0.1:${port}/hook`);
    notifier.notify([firingAlert(), resolvedAlert()]);
    await notifier.flush();
    expect(await metricSample(alerting, 'tributary_alert_notification_duration_seconds', { notifier: 'hook' })).toBe(3);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'hook', outcome: 'failed' })).toBe(2);
  });

  it('sends a bearer token from a file and re-reads the file after a 401', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-webhook-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'old-token\n');
    const { receiver, notifier } = await setup({ bearer_token_file: tokenFile });
    receiver.respond({ status: 401 });
    await writeFile(tokenFile, 'new-token\n');
    notifier.notify([firingAlert()]);
    await notifier.flush();
    expect(receiver.requests.map(({ headers }) => headers.authorization)).toEqual(['Bearer old-token', 'Bearer new-token']);
  });

  it('does not retry a 404', async () => {
    const { receiver, notifier, alerting } = await setup();
    receiver.respond({ status: 404, body: 'no such hook' });
    notifier.notify([firingAlert()]);
    await notifier.flush();
    expect(receiver.requests).toHaveLength(1);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'hook', outcome: 'failed' })).toBe(1);
  });

  it('ends a request the receiver never answers at timeout, and retries it', async () => {
    const { receiver, notifier, alerting } = await setup({ timeout: '200ms' });
    receiver.respond({ status: 0 });
    const began = Date.now();
    notifier.notify([firingAlert()]);
    await notifier.flush();
    expect(Date.now() - began).toBeGreaterThanOrEqual(195);
    expect(receiver.requests).toHaveLength(2);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'hook', outcome: 'sent' })).toBe(1);
  });
});
