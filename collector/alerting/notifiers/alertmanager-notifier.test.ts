import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../shared/test-support/wait.js';
import { alertmanagerNotifierSchema } from './config.js';
import { AlertmanagerNotifier, prometheusName, toAlertmanagerAlert, type AlertmanagerAlert } from './alertmanager-notifier.js';
import { FakeReceiver, firingAlert, metricSample, pendingAlert, resolvedAlert, resolvedFromPendingAlert, testDependencies } from './test-support.js';

const NOW = Date.parse('2026-11-23T12:10:00.000Z');

function config(urls: string[], extra: Record<string, unknown> = {}) {
  return alertmanagerNotifierSchema.parse({ type: 'alertmanager', urls, retry: { initial_backoff: '10ms', max_backoff: '40ms' }, ...extra });
}

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('toAlertmanagerAlert', () => {
  it('sends a firing alert with startsAt = fired_at and endsAt = now + resolve_timeout, names made Prometheus-valid', () => {
    const alert = toAlertmanagerAlert(firingAlert(), NOW, { resolve_timeout: 240_000, generator_url: 'https://grafana.example/d/a?rule={rule}' });
    expect(alert).toEqual({
      labels: { alertname: 'HighErrorRate', severity: 'critical', service_name: 'checkout' },
      annotations: { summary: 'checkout: 12 errors in 1m', description: 'error count 12 > 10' },
      startsAt: '2026-11-23T12:00:00.000Z',
      endsAt: '2026-11-23T12:14:00.000Z',
      generatorURL: 'https://grafana.example/d/a?rule=api%2FHighErrorRate',
    } satisfies AlertmanagerAlert);
  });

  it('sends a resolved alert with endsAt = resolved_at and no generatorURL unless configured', () => {
    expect(toAlertmanagerAlert(resolvedAlert(), NOW, { resolve_timeout: 240_000 })).toEqual({
      labels: { alertname: 'HighErrorRate', severity: 'critical', service_name: 'checkout' },
      annotations: { summary: 'checkout: 12 errors in 1m', description: 'error count 12 > 10' },
      startsAt: '2026-11-23T12:00:00.000Z',
      endsAt: '2026-11-23T12:05:00.000Z',
    });
  });

  it('maps names as Prometheus maps OTLP attributes, keeps a valid name over a mapped one, and leaves out empty values', () => {
    expect(['service.name', 'k8s.pod.name', '0day', 'ok_name', 'a-b'].map(prometheusName)).toEqual(['service_name', 'k8s_pod_name', '_0day', 'ok_name', 'a_b']);
    const alert = toAlertmanagerAlert(firingAlert({ labels: { alertname: 'X', 'a.b': 'dotted', a_b: 'plain', empty: '' } }), NOW, { resolve_timeout: 60_000 });
    expect(alert.labels).toEqual({ alertname: 'X', a_b: 'plain' });
  });
});

describe('AlertmanagerNotifier', () => {
  const receivers: FakeReceiver[] = [];
  const notifiers: AlertmanagerNotifier[] = [];
  afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((notifier) => notifier.stop()));
    await Promise.all(receivers.splice(0).map((receiver) => receiver.stop()));
  });

  async function receiver(): Promise<FakeReceiver> {
    const started = await new FakeReceiver().start();
    receivers.push(started);
    return started;
  }

  async function started(urls: string[], extra: Record<string, unknown> = {}, logger?: ReturnType<typeof capturingLogger>['logger']) {
    const dependencies = testDependencies('am', NOW);
    const notifier = new AlertmanagerNotifier('am', config(urls, extra), logger ? { ...dependencies, logger } : dependencies);
    notifiers.push(notifier);
    await notifier.start();
    return { notifier, alerting: dependencies.alerting };
  }

  it('POSTs firing and resolved alerts as one v2 batch; pending and resolved-from-pending are never sent', async () => {
    const am = await receiver();
    const { notifier, alerting } = await started([am.url]);
    notifier.notify([pendingAlert(), firingAlert(), resolvedFromPendingAlert(), resolvedAlert()]);
    await notifier.flush();
    expect(am.requests.map(({ method, url, headers }) => [method, url, headers['content-type']])).toEqual([['POST', '/api/v2/alerts', 'application/json']]);
    expect(am.bodies<AlertmanagerAlert[]>()[0]?.map(({ startsAt, endsAt }) => [startsAt, endsAt])).toEqual([
      ['2026-11-23T12:00:00.000Z', '2026-11-23T12:14:00.000Z'],
      ['2026-11-23T12:00:00.000Z', '2026-11-23T12:05:00.000Z'],
    ]);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'sent' })).toBe(2);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'failed' })).toBe(0);
    expect(await metricSample(alerting, 'tributary_alert_notification_duration_seconds', { notifier: 'am' })).toBe(1);
    expect(await metricSample(alerting, 'tributary_alert_notifier_queue_length', { notifier: 'am' })).toBe(0);
  });

  it('honours path_prefix and the URL path, and caps batches at max_batch_size', async () => {
    const am = await receiver();
    const { notifier } = await started([`${am.url}/am/`], { path_prefix: '/alertmanager', max_batch_size: 2 });
    notifier.notify([1, 2, 3, 4, 5].map((n) => firingAlert({ fingerprint: `${n}`.padStart(16, '0'), labels: { alertname: `A${n}` } })));
    await notifier.flush();
    expect(am.requests.map(({ url }) => url)).toEqual(Array(3).fill('/am/alertmanager/api/v2/alerts'));
    expect(am.bodies<AlertmanagerAlert[]>().map((batch) => batch.map((alert) => alert.labels.alertname))).toEqual([['A1', 'A2'], ['A3', 'A4'], ['A5']]);
  });

  it('retries a 503 and a refused connection, then succeeds', async () => {
    const am = await receiver();
    am.respond({ status: 503, body: 'not ready' }, { status: 503, body: 'not ready' });
    const { notifier, alerting } = await started([am.url]);
    notifier.notify([firingAlert()]);
    await notifier.flush();
    expect(am.requests.map(({ body }) => (JSON.parse(body) as AlertmanagerAlert[])[0]?.labels.alertname)).toEqual([
      'HighErrorRate',
      'HighErrorRate',
      'HighErrorRate',
    ]);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'sent' })).toBe(1);
    expect(await metricSample(alerting, 'tributary_alert_notification_duration_seconds', { notifier: 'am' })).toBe(3);
  });

  it('does not retry a 400: the batch counts as failed and the log carries the response body', async () => {
    const am = await receiver();
    am.respond({ status: 400, body: '"invalid label set: invalid name \\"x.y\\""' });
    const { logger, lines } = capturingLogger();
    const { notifier, alerting } = await started([am.url], {}, logger);
    notifier.notify([firingAlert(), resolvedAlert()]);
    await notifier.flush();
    expect(am.requests).toHaveLength(1);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'failed' })).toBe(2);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'sent' })).toBe(0);
    const rejected = lines.find((line) => line.msg === 'receiver rejected alerts');
    expect(rejected).toMatchObject({ status: 400, alerts: 2, body: '"invalid label set: invalid name \\"x.y\\""', target: `${am.url}/api/v2/alerts` });
  });

  it('gives up after retry.max_attempts and counts the alerts as failed', async () => {
    const am = await receiver();
    am.fallback = { status: 500, body: 'boom' };
    const { notifier, alerting } = await started([am.url], { retry: { max_attempts: 3, initial_backoff: '1ms', max_backoff: '2ms' } });
    notifier.notify([firingAlert()]);
    await notifier.flush();
    expect(am.requests).toHaveLength(3);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'failed' })).toBe(1);
  });

  it('sends every batch to every Alertmanager; it is sent when one of them accepted it', async () => {
    const up = await receiver();
    const down = await receiver();
    down.fallback = { status: 503 };
    const { notifier, alerting } = await started([up.url, down.url], { retry: { max_attempts: 2, initial_backoff: '1ms', max_backoff: '1ms' } });
    notifier.notify([firingAlert()]);
    await notifier.flush();
    expect([up.requests.length, down.requests.length]).toEqual([1, 2]);
    expect(up.requests[0]?.body).toBe(down.requests[0]?.body);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'sent' })).toBe(1);
  });

  it('drops the oldest alerts when the queue overflows, counts them, and sends the newest', async () => {
    const am = await receiver();
    const { notifier, alerting } = await started([am.url], { queue_capacity: 3, max_batch_size: 10 });
    // Held back by a slow first request, so the queue fills behind it.
    am.respond({ status: 503 });
    const named = (n: number) => firingAlert({ labels: { alertname: `A${n}` } });
    notifier.notify([named(0)]);
    await am.received(1);
    notifier.notify([1, 2, 3, 4, 5].map(named));
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'dropped' })).toBe(2);
    expect(await metricSample(alerting, 'tributary_alert_notifier_queue_length', { notifier: 'am' })).toBe(4);
    await notifier.flush();
    expect(am.bodies<AlertmanagerAlert[]>().map((batch) => batch.map((alert) => alert.labels.alertname))).toEqual([['A0'], ['A0'], ['A3', 'A4', 'A5']]);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'sent' })).toBe(4);
    expect(await metricSample(alerting, 'tributary_alert_notifier_queue_length', { notifier: 'am' })).toBe(0);
  });

  it('flush waits for what was enqueued before it, including retries, and resolves at once when nothing is queued', async () => {
    const am = await receiver();
    const { notifier } = await started([am.url]);
    await notifier.flush();
    am.respond({ status: 502 });
    notifier.notify([firingAlert()]);
    await am.received(1);
    const flushed = notifier.flush();
    notifier.notify([resolvedAlert()]);
    await flushed;
    expect(am.bodies<AlertmanagerAlert[]>().slice(0, 2)).toEqual([
      [expect.objectContaining({ endsAt: '2026-11-23T12:14:00.000Z' })],
      [expect.objectContaining({ endsAt: '2026-11-23T12:14:00.000Z' })],
    ]);
    await notifier.flush();
    expect(am.bodies<AlertmanagerAlert[]>().map((batch) => batch.map((alert) => alert.endsAt))).toEqual([
      ['2026-11-23T12:14:00.000Z'],
      ['2026-11-23T12:14:00.000Z'],
      ['2026-11-23T12:05:00.000Z'],
    ]);
  });

  it('stop gives queued alerts one last attempt without backoff, then counts what is left as dropped', async () => {
    const am = await receiver();
    am.fallback = { status: 503 };
    const { notifier, alerting } = await started([am.url], { timeout: '2s', retry: { max_attempts: 10, initial_backoff: '1h', max_backoff: '1h' } });
    notifier.notify([firingAlert()]);
    // Once the first request has its answer, the notifier is in its hour-long backoff.
    await waitFor(
      'the duration to be observed',
      async () => (await metricSample(alerting, 'tributary_alert_notification_duration_seconds', { notifier: 'am' })) === 1,
      4_000,
    );
    const began = Date.now();
    await notifier.stop();
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(am.requests).toHaveLength(2);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'failed' })).toBe(1);
    notifier.notify([firingAlert()]);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'dropped' })).toBe(1);
  });

  it('sends basic auth from the URL without putting it in the request line', async () => {
    const am = await receiver();
    const { notifier } = await started([am.url.replace('http://', 'http://ops:s%40cret@')]);
    notifier.notify([firingAlert()]);
    await notifier.flush();
    expect(am.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('ops:s@cret').toString('base64')}`);
    expect(am.requests[0]?.url).toBe('/api/v2/alerts');
  });
});
