/**
 * One alert state change (schema `tributary.alert.v1`), published on
 * `tributary.alerts`, one JSON document per Kafka message keyed by
 * `fingerprint`, so one alert's history stays ordered in one partition. The
 * JSON Schema beside this file is the contract for consumers in any language.
 *
 * An alert is one rule and one group key (the values of the rule's
 * `group_by`): inactive → pending → firing → resolved, as in Prometheus. A
 * rule without `for` goes straight from inactive to firing.
 */
export interface AlertRecord {
  schema: 'tributary.alert.v1';
  /** Unique per state change: sha256(fingerprint, state, changed_at)[0:32] in hex, so a replayed change has the same id. */
  id: string;
  /** sha256 of the alert's identifying labels [0:16] in hex; stable for one rule and group key across restarts. */
  fingerprint: string;
  /** `group/rule`, the rule's qualified name. */
  rule: string;
  state: 'pending' | 'firing' | 'resolved';
  /** The state before this change; `inactive` for a new alert. */
  previous_state: 'inactive' | 'pending' | 'firing';
  /**
   * Identifying labels: `alertname` (the rule name), `severity`, the rule's
   * own `labels`, and the group key's attribute values; what Alertmanager
   * groups, routes and silences on.
   */
  labels: Record<string, string>;
  /** The rule's annotations with templates expanded ({{ $value }}, {{ $labels.x }}). */
  annotations: Record<string, string>;
  /** The aggregated value of the evaluation that caused the change; null for `absent` rules and resolutions by absence. */
  value: number | null;
  /** When the condition began to hold (pending began, or firing for rules without `for`), RFC 3339. */
  active_at: string;
  /** When it began to fire; present for firing and resolved alerts that fired. */
  fired_at?: string;
  /** When it resolved; resolved alerts only. */
  resolved_at?: string;
  /** When this change happened (event time of the evaluation), RFC 3339. */
  changed_at: string;
  /** The collector instance that evaluated the rule. */
  generator: string;
}
