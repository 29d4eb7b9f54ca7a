import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertingMetrics } from '../../collector/alerting/alerting-metrics.js';
import { AlertmanagerNotifier } from '../../collector/alerting/notifiers/alertmanager-notifier.js';
import { alertmanagerNotifierSchema } from '../../collector/alerting/notifiers/config.js';
import { firingAlert, metricSample, pendingAlert, resolvedAlert } from '../../collector/alerting/notifiers/test-support.js';
import { freePort } from '../../shared/test-support/ports.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { startAlertmanager, type RunningAlertmanager } from '../helpers/alertmanager.js';
import { waitFor } from '../helpers/kafka.js';
import { metricValue } from '../helpers/processes.js';

describe('AlertmanagerNotifier against a real Alertmanager (Debian prometheus-alertmanager)', () => {
  let alertmanager: RunningAlertmanager;
  let notifier: AlertmanagerNotifier;
  let alerting: AlertingMetrics;
  // Pinned so the endsAt Alertmanager reports can be compared exactly; the alert fired a minute before.
  const now = Date.now();
  const firedAt = new Date(now - 60_000).toISOString();
  const firing = firingAlert({
    labels: { alertname: 'CheckoutErrors', severity: 'critical', 'service.name': 'checkout' },
    active_at: new Date(now - 120_000).toISOString(),
    fired_at: firedAt,
    changed_at: firedAt,
  });

  beforeAll(async () => {
    alertmanager = await startAlertmanager();
    alerting = new AlertingMetrics(new Registry());
    // A second, dead Alertmanager: an HA pair with one member down still gets every alert to the other.
    const dead = `http://127.0.0.1:${await freePort()}`;
    const config = alertmanagerNotifierSchema.parse({
      type: 'alertmanager',
      urls: [alertmanager.url, dead],
      retry: { max_attempts: 2, initial_backoff: '10ms', max_backoff: '20ms' },
      generator_url: 'https://grafana.example/alerting?rule={rule}',
    });
    notifier = new AlertmanagerNotifier('am', config, { metrics: alerting.notifier('am'), logger: silentLogger(), now: () => now });
    await notifier.start();
  });

  afterAll(async () => {
    await notifier.stop();
    await alertmanager.stop();
  });

  it('a firing alert is active in Alertmanager, then resolved, and its receiver is notified of both', async () => {
    notifier.notify([pendingAlert({ labels: { alertname: 'NeverSent' } }), firing]);
    await notifier.flush();
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'sent' })).toBe(1);

    const active = await alertmanager.alerts();
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({
      labels: { alertname: 'CheckoutErrors', severity: 'critical', service_name: 'checkout' },
      annotations: { summary: 'checkout: 12 errors in 1m', description: 'error count 12 > 10' },
      startsAt: firedAt,
      endsAt: new Date(now + 4 * 60_000).toISOString(),
      generatorURL: 'https://grafana.example/alerting?rule=api%2FHighErrorRate',
      receivers: [{ name: 'test-webhook' }],
      status: { state: 'active', silencedBy: [], inhibitedBy: [] },
    });

    const firingNotification = await waitFor('the firing notification', () => alertmanager.notifications.find((body) => body.status === 'firing'), 30_000);
    // Notifications carry Go's RFC3339Nano (trailing zeros trimmed: ".25Z"), so times are compared as instants.
    expect(firingNotification.alerts.map(({ status, labels, startsAt }) => ({ status, labels, startsAt: Date.parse(startsAt) }))).toEqual([
      { status: 'firing', labels: { alertname: 'CheckoutErrors', severity: 'critical', service_name: 'checkout' }, startsAt: Date.parse(firedAt) },
    ]);

    // Resolved a moment ago: Alertmanager compares endsAt with its own clock.
    const resolvedAt = new Date(Date.now() - 1).toISOString();
    notifier.notify([resolvedAlert(firing, resolvedAt)]);
    await notifier.flush();
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'sent' })).toBe(2);

    // The v2 API lists no resolved alerts, whatever the active/silenced/inhibited/unprocessed filters say.
    expect(await alertmanager.alerts()).toEqual([]);
    const metrics = await alertmanager.metrics();
    expect(metricValue(metrics, 'alertmanager_alerts_received_total', { status: 'firing', version: 'v2' })).toBe(1);
    expect(metricValue(metrics, 'alertmanager_alerts_received_total', { status: 'resolved', version: 'v2' })).toBe(1);
    expect(metricValue(metrics, 'alertmanager_alerts_invalid_total', { version: 'v2' })).toBe(0);

    const resolvedNotification = await waitFor(
      'the resolved notification',
      () => alertmanager.notifications.find((body) => body.status === 'resolved'),
      30_000,
    );
    expect(
      resolvedNotification.alerts.map(({ status, labels, startsAt, endsAt }) => ({
        status,
        labels,
        startsAt: Date.parse(startsAt),
        endsAt: Date.parse(endsAt),
      })),
    ).toEqual([
      {
        status: 'resolved',
        labels: { alertname: 'CheckoutErrors', severity: 'critical', service_name: 'checkout' },
        startsAt: Date.parse(firedAt),
        endsAt: Date.parse(resolvedAt),
      },
    ]);
    expect(alertmanager.notifications.map((body) => body.status)).toEqual(['firing', 'resolved']);
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'failed' })).toBe(0);
  });

  it('an alert Alertmanager rejects (400) is not retried and counts as failed', async () => {
    const before = await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'failed' });
    const broken = firingAlert({ labels: { alertname: 'TimeTravel' }, fired_at: new Date(now).toISOString() });
    // Resolved before it fired: Alertmanager's validation refuses an endsAt before startsAt.
    notifier.notify([resolvedAlert(broken, new Date(now - 60_000).toISOString())]);
    await notifier.flush();
    expect(await metricSample(alerting, 'tributary_alert_notifications_total', { notifier: 'am', outcome: 'failed' })).toBe(before + 1);
    expect(metricValue(await alertmanager.metrics(), 'alertmanager_alerts_invalid_total', { version: 'v2' })).toBe(1);
  });
});
