import type { ComponentFactory, TypedSchema } from '../../../shared/component/registry.js';
import type { AlertNotifier } from './notifier.js';
import type { NotifierDependencies } from './queued-notifier.js';

/** A notifier type: `alerting.notifiers.<id>` entries with its `type` are validated by its schema and built by `create`. */
export type NotifierFactory<Schema extends TypedSchema> = ComponentFactory<Schema, NotifierDependencies, AlertNotifier>;
