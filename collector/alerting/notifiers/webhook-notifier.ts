import type { AlertRecord } from '../../../shared/record/alert-record.js';
import { webhookNotifierSchema, type WebhookNotifierConfig } from './config.js';
import { NotifierHttpClient, type Target } from './http-client.js';
import type { NotifierFactory } from './notifier-factory.js';
import { QueuedNotifier, type NotifierDependencies } from './queued-notifier.js';

/**
 * The body of every webhook request. `version` changes only with an
 * incompatible change of this shape; `alerts` are `tributary.alert.v1`
 * records exactly as on the `tributary.alerts` topic, oldest first.
 */
export interface WebhookPayload {
  version: '1';
  /** The collector instance that evaluated the rules (the records' `generator`). */
  generator: string;
  alerts: AlertRecord[];
}

/**
 * Posts alert state changes (and repeats of firing alerts) as JSON to any
 * HTTP endpoint, in batches, with retries. Pending alerts, and resolutions of
 * alerts that never fired, are sent only with `send_pending`.
 */
export class WebhookNotifier extends QueuedNotifier {
  private readonly target: Target;

  constructor(
    id: string,
    private readonly webhookConfig: WebhookNotifierConfig,
    dependencies: NotifierDependencies,
  ) {
    const { target, credentials } = NotifierHttpClient.target(webhookConfig.url);
    super(id, webhookConfig, new NotifierHttpClient(webhookConfig, credentials, { logger: dependencies.logger.child({ notifier: id }) }), dependencies);
    this.target = target;
  }

  protected accepts(record: AlertRecord): boolean {
    return this.webhookConfig.send_pending || record.fired_at !== undefined;
  }

  protected deliver(batch: readonly AlertRecord[], signal: AbortSignal): Promise<boolean> {
    const payload: WebhookPayload = { version: '1', generator: batch[0]?.generator ?? '', alerts: [...batch] };
    return this.sendWithRetry(this.target, this.webhookConfig.method, JSON.stringify(payload), this.webhookConfig.headers, batch.length, signal);
  }
}

export const webhookNotifierFactory: NotifierFactory<typeof webhookNotifierSchema> = {
  type: 'webhook',
  description: 'posts alert state changes as JSON batches to any HTTP endpoint, with retries',
  schema: webhookNotifierSchema,
  create: (id, config, deps) => new WebhookNotifier(id, config, deps),
};
