import type { AlertRecord } from '../../../shared/record/alert-record.js';
import { alertmanagerNotifierSchema, type AlertmanagerNotifierConfig } from './config.js';
import { NotifierHttpClient, type Target } from './http-client.js';
import type { NotifierFactory } from './notifier-factory.js';
import { QueuedNotifier, type NotifierDependencies } from './queued-notifier.js';

/** One element of Alertmanager's `POST /api/v2/alerts` body (its `postableAlert`). */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/**
 * Alertmanager (0.25 included) accepts only classic Prometheus names for
 * labels and annotations and rejects the whole alert otherwise ("invalid
 * label set: invalid name \"service.name\"", HTTP 400). Group-key attributes
 * are OpenTelemetry names with dots, so names are mapped as Prometheus maps
 * OTLP attributes: every other character becomes `_`, a leading digit gets
 * a `_` prefix. Empty values are left out, as Prometheus does (an empty
 * label is an absent label).
 */
export function prometheusName(name: string): string {
  const replaced = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(replaced) || replaced === '' ? `_${replaced}` : replaced;
}

function prometheusLabelSet(source: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = {};
  // Sorted, so when two names map to one (`a.b` and `a_b`) which one wins does not depend on insertion order.
  for (const name of Object.keys(source).sort()) {
    const value = source[name];
    if (value === undefined || value === '') continue;
    const mapped = prometheusName(name);
    // The name that was already valid wins a collision: it is the one users see and match on elsewhere.
    if (mapped in result && mapped !== name) continue;
    result[mapped] = value;
  }
  return result;
}

/** Whether Alertmanager hears of a record: only alerts that fired, as Prometheus sends only firing alerts and their resolutions. */
export function firedAlert(record: AlertRecord): boolean {
  return record.fired_at !== undefined && (record.state === 'firing' || record.state === 'resolved');
}

/**
 * Maps one record to Alertmanager's model. A firing alert is sent with
 * `endsAt` = now + resolve_timeout (Alertmanager treats it as resolved if it
 * is not resent by then, which is how an alert of a vanished collector ends);
 * a resolved one with `endsAt` = when it resolved, which Alertmanager takes as
 * resolved at once.
 */
export function toAlertmanagerAlert(
  record: AlertRecord,
  now: number,
  config: Pick<AlertmanagerNotifierConfig, 'resolve_timeout' | 'generator_url'>,
): AlertmanagerAlert {
  const startsAt = record.fired_at ?? record.active_at;
  const endsAt = record.state === 'resolved' ? (record.resolved_at ?? record.changed_at) : new Date(now + config.resolve_timeout).toISOString();
  const alert: AlertmanagerAlert = { labels: prometheusLabelSet(record.labels), annotations: prometheusLabelSet(record.annotations), startsAt, endsAt };
  if (config.generator_url !== undefined) alert.generatorURL = config.generator_url.replaceAll('{rule}', encodeURIComponent(record.rule));
  return alert;
}

/**
 * Sends alerts to Prometheus Alertmanager through its v2 API, so users'
 * routing, grouping, inhibition and silences apply. Each batch goes to every
 * configured Alertmanager (an HA cluster deduplicates), in parallel, each
 * with its own retries; it counts as sent when at least one accepted it.
 */
export class AlertmanagerNotifier extends QueuedNotifier {
  private readonly targets: readonly Target[];

  constructor(
    id: string,
    private readonly amConfig: AlertmanagerNotifierConfig,
    dependencies: NotifierDependencies,
  ) {
    const parsed = amConfig.urls.map((url) => NotifierHttpClient.target(url, `${amConfig.path_prefix}/api/v2/alerts`));
    super(
      id,
      amConfig,
      new NotifierHttpClient(amConfig, parsed.find(({ credentials }) => credentials !== undefined)?.credentials, {
        logger: dependencies.logger.child({ notifier: id }),
      }),
      dependencies,
    );
    this.targets = parsed.map(({ target }) => target);
  }

  protected accepts(record: AlertRecord): boolean {
    return firedAlert(record);
  }

  protected async deliver(batch: readonly AlertRecord[], signal: AbortSignal): Promise<boolean> {
    // endsAt from the time of sending, not of enqueueing: a batch that waited in retries still gets the full horizon.
    const now = this.now();
    const body = JSON.stringify(batch.map((record) => toAlertmanagerAlert(record, now, this.amConfig)));
    const accepted = await Promise.all(this.targets.map((target) => this.sendWithRetry(target, 'POST', body, {}, batch.length, signal)));
    return accepted.some(Boolean);
  }
}

export const alertmanagerNotifierFactory: NotifierFactory<typeof alertmanagerNotifierSchema> = {
  type: 'alertmanager',
  description: 'sends firing and resolved alerts to every configured Prometheus Alertmanager (API v2)',
  schema: alertmanagerNotifierSchema,
  create: (id, config, deps) => new AlertmanagerNotifier(id, config, deps),
};
