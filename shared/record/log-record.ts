/**
 * The standard log record (schema `tributary.log.v1`), after the OpenTelemetry
 * log data model with semantic-convention attribute names. Published on
 * `tributary.logs`, one JSON document per Kafka message; the JSON Schema lives
 * beside this file and is the contract for consumers in any language.
 */
export interface LogRecord {
  schema: 'tributary.log.v1';
  id: string;
  /** When the event happened (from the line when a parser finds it, else the observed time), RFC 3339. */
  timestamp: string;
  observed_timestamp: string;
  /** OpenTelemetry severity number 0-24; 0 is UNSPECIFIED. */
  severity_number: number;
  severity_text?: string;
  body: string;
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string>;
  trace_id?: string;
  span_id?: string;
}
