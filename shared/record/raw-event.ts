/**
 * Raw events: what agents put in frames on the raw topics (schema `raw.log.v1`).
 * Agents only observe; parsing, timestamps from the line and severity belong
 * to the collector, so a parser change never needs an agent upgrade.
 */
export interface RawLogEvent {
  /** Stable id: the same line read again after a crash gets the same id. */
  id: string;
  /** When the agent read the line, RFC 3339 with milliseconds. */
  observed_at: string;
  body: string;
  host: string;
  agent_id: string;
  source: {
    type: 'file';
    /** The component id from the agent config. */
    name: string;
    path: string;
    /** Identity of the file independent of its path (see agent/sources/file). */
    file_id: string;
    /** Byte offset of the first byte of the line in the file. */
    offset: number;
  };
  /** Operator-configured labels and Kubernetes metadata from the path, copied into the record's resource by the collector. */
  labels?: Record<string, string>;
  /** The line was cut at max_line_bytes (or a multiline/partial record at its cap). */
  truncated?: true;
  /** Event time from a container runtime's envelope (CRI, Docker json-file), RFC 3339 with up to nanoseconds. */
  time?: string;
  /** Attributes from the line's envelope, e.g. `log.iostream: stderr`. */
  attributes?: Record<string, string>;
}
