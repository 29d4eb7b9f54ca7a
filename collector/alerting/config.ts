import { z } from 'zod';
import { duration } from '../../shared/config/schema.js';
import { alertTopicSchema } from './notifiers/config.js';
import { alertNotifierSchema } from './notifiers/registry.js';

/**
 * The collector's `alerting` section. Rules live in their own files
 * (`rules_files`), reloaded when they change; what they produce goes to the
 * alerts topic and to the notifiers.
 */
export const alertingSchema = z.strictObject({
  /** Rule files (YAML); relative paths are relative to the collector's working directory. */
  rules_files: z.array(z.string().min(1)).min(1),
  /**
   * How far evaluation stays behind the clock: records later than this (agent batching, a slow broker, a
   * collector failing over) miss the windows already evaluated and are counted as late. Make it longer than a
   * failover (the input's session_timeout plus a few seconds) if crashes must not change alerts.
   */
  evaluation_delay: duration().default(15_000),
  /**
   * Samples dated further than this past the clock are refused and counted (reason `alert_future`): each would
   * hold a slice until its time comes. Allow for clock skew between hosts.
   */
  max_future_skew: duration().default(5 * 60_000),
  /** Slices (intervals with data) one alert may hold; more are refused and counted (`alert_slice_limit`). */
  max_slices_per_alert: z.number().int().min(1).default(10_000),
  /** Alerts (group keys) one rule may hold; samples for more are refused and counted (`alert_group_limit`). */
  max_alerts_per_rule: z.number().int().min(1).default(10_000),
  /** How often firing alerts are sent again to the notifiers (Alertmanager forgets alerts that are not repeated). */
  repeat_interval: duration({ min: 1 }).default(60_000),
  /** Re-read the rule files when they change (checked every 5 s); a file that fails validation keeps the old rules. */
  reload: z.boolean().default(true),
  /** Internal topic of partial aggregates, keyed by rule and group. Default: `<group_id>.alerting.partials`. */
  partials_topic: z.string().min(1).optional(),
  /** Internal compacted topic of alert state, co-partitioned with the partials. Default: `<group_id>.alerting.state`. */
  state_topic: z.string().min(1).optional(),
  /** Partitions of both internal topics: the most collectors that share the evaluation. */
  partitions: z.number().int().min(1).default(6),
  /** The `tributary.alerts` topic: one record per alert state change. */
  alerts_topic: alertTopicSchema,
  /** Notifiers by id (Alertmanager, webhooks); every alert goes to every notifier. */
  notifiers: z.record(z.string().regex(/^[a-z0-9_]+$/, 'notifier ids are lower_snake_case'), alertNotifierSchema).default({}),
});

export type AlertingConfig = z.output<typeof alertingSchema>;
