import { AlertmanagerNotifier } from './alertmanager-notifier.js';
import type { AlertNotifierConfig } from './config.js';
import type { AlertNotifier } from './notifier.js';
import type { NotifierDependencies } from './queued-notifier.js';
import { WebhookNotifier } from './webhook-notifier.js';

/** The notifier for one `alerting.notifiers.<id>` entry. */
export function createAlertNotifier(id: string, config: AlertNotifierConfig, dependencies: NotifierDependencies): AlertNotifier {
  switch (config.type) {
    case 'alertmanager':
      return new AlertmanagerNotifier(id, config, dependencies);
    case 'webhook':
      return new WebhookNotifier(id, config, dependencies);
  }
}
