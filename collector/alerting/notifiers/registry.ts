import type { z } from 'zod';
import { ComponentRegistry, typedEntrySchema } from '../../../shared/component/registry.js';
import { alertmanagerNotifierFactory } from './alertmanager-notifier.js';
import type { AlertNotifier } from './notifier.js';
import type { NotifierDependencies } from './queued-notifier.js';
import { webhookNotifierFactory } from './webhook-notifier.js';

/** Every alert notifier type, one line each; `alerting.notifiers.<id>.type` is validated against and built from this list. */
export const alertNotifiers = new ComponentRegistry('notifier', [alertmanagerNotifierFactory, webhookNotifierFactory]);

/** The schema of one `alerting.notifiers.<id>` entry. */
export const alertNotifierSchema = typedEntrySchema(alertNotifiers);

export type AlertNotifierConfig = z.output<typeof alertNotifierSchema>;

/** Builds a validated `alerting.notifiers.<id>` entry with its type's factory; an unregistered type throws, never falls through. */
export function createAlertNotifier(id: string, config: AlertNotifierConfig, dependencies: NotifierDependencies): AlertNotifier {
  const factory = alertNotifiers.get(config.type);
  // The factory was found by this config's own `type`, which its schema produced: it takes exactly this config.
  // TypeScript cannot correlate the two unions (the factory's and the config's), hence the cast.
  return factory.create(id, config as never, dependencies);
}
