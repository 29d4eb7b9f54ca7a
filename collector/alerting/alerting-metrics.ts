import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Metric families of the alerting side of the collector, on the process's
 * registry (the one `PipelineMetrics` owns, so they carry its
 * `tributary_process` default label). Families are created once here and
 * components get views bound to their labels, as with `ComponentMetrics`;
 * evaluation metrics belong in this class too.
 */
export type NotificationOutcome = 'sent' | 'failed' | 'dropped';

const OUTCOMES: readonly NotificationOutcome[] = ['sent', 'failed', 'dropped'];

export class AlertingMetrics {
  readonly registry: Registry;
  /** Alerts, not requests: one alert in a batch of 64 that was delivered counts once as `sent`. */
  readonly notifications: Counter<'notifier' | 'outcome'>;
  readonly notificationDuration: Histogram<'notifier'>;
  readonly notifierQueueLength: Gauge<'notifier'>;
  readonly ruleEvaluations: Counter<'rule'>;
  readonly evaluationDuration: Histogram;
  readonly alerts: Gauge<'state'>;
  readonly lateSamples: Gauge;
  readonly ruleReloads: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.registry = registry;
    this.notifications = new Counter({
      name: 'tributary_alert_notifications_total',
      help: 'Alert notifications by outcome: sent (a receiver accepted it), failed (rejected, or retries exhausted), dropped (queue overflow or shutdown).',
      labelNames: ['notifier', 'outcome'],
      registers: [registry],
    });
    this.notificationDuration = new Histogram({
      name: 'tributary_alert_notification_duration_seconds',
      help: 'Latency of one notification request (HTTP request to a receiver, or produce to the alerts topic), successful or not.',
      labelNames: ['notifier'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.ruleEvaluations = new Counter({
      name: 'tributary_alert_rule_evaluations_total',
      help: 'Rule evaluations by rule (group/alert): one per alert owned here per evaluation time.',
      labelNames: ['rule'],
      registers: [registry],
    });
    this.evaluationDuration = new Histogram({
      name: 'tributary_alert_evaluation_duration_seconds',
      help: 'Time of one evaluation round over every alert this collector owns.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
    this.alerts = new Gauge({
      name: 'tributary_alerts',
      help: 'Alerts this collector owns, by state (pending, firing).',
      labelNames: ['state'],
      registers: [registry],
    });
    this.lateSamples = new Gauge({
      name: 'tributary_alert_late_samples',
      help: 'Samples that arrived after every window holding them was evaluated (since start); raise alerting.evaluation_delay if it grows.',
      registers: [registry],
    });
    this.ruleReloads = new Counter({
      name: 'tributary_alert_rule_reloads_total',
      help: 'Rule file reloads: loaded, or failed (invalid files; the previous rules stay).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.notifierQueueLength = new Gauge({
      name: 'tributary_alert_notifier_queue_length',
      help: 'Alerts waiting for delivery by a notifier, including the batch being sent.',
      labelNames: ['notifier'],
      registers: [registry],
    });
  }

  /** A notifier's view; its series start at zero so `rate()` and alerts on failures work from the first scrape. */
  notifier(id: string): NotifierMetrics {
    for (const outcome of OUTCOMES) this.notifications.inc({ notifier: id, outcome }, 0);
    this.notifierQueueLength.set({ notifier: id }, 0);
    return new NotifierMetrics(this, id);
  }
}

export class NotifierMetrics {
  constructor(
    private readonly families: AlertingMetrics,
    readonly notifier: string,
  ) {}

  count(outcome: NotificationOutcome, alerts: number): void {
    if (alerts > 0) this.families.notifications.inc({ notifier: this.notifier, outcome }, alerts);
  }

  /** Starts timing one request; call the result when it ended. */
  startRequest(): () => void {
    const end = this.families.notificationDuration.startTimer({ notifier: this.notifier });
    return () => {
      end();
    };
  }

  queueLength(alerts: number): void {
    this.families.notifierQueueLength.set({ notifier: this.notifier }, alerts);
  }
}
