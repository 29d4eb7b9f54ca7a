import type { AlertRecord } from '../../../shared/record/alert-record.js';
import type { Lifecycle } from '../../../shared/pipeline/types.js';

/**
 * Where alerts go besides the `tributary.alerts` topic: Alertmanager, a
 * webhook. The evaluator calls `notify` after each evaluation round with the
 * alerts that changed state and, every repeat interval, the alerts still
 * firing (a repeat is the alert's current record again, unchanged).
 *
 * `notify` only enqueues: delivery (with retries and backoff) happens in the
 * background, so a slow or absent receiver never delays evaluation. The queue
 * is bounded; what overflows or exhausts its retries is counted as a
 * notification failure, never silently dropped.
 */
export interface AlertNotifier extends Lifecycle {
  readonly id: string;
  notify(alerts: readonly AlertRecord[]): void;
  /** Waits until everything enqueued so far was delivered or given up on (tests, shutdown). */
  flush(): Promise<void>;
}
