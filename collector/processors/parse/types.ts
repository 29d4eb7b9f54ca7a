/**
 * What a parser extracts from one log line. The normalizer merges it into the
 * standard record (tributary.log.v1): `timestamp` becomes the record's event
 * time, severity its severity_text/number, `body` replaces the raw line when a
 * parser isolates the message, and attributes/resource are added with
 * OpenTelemetry semantic-convention names where one exists
 * (`http.request.method`, `url.path`, `http.response.status_code`,
 * `client.address`, `user_agent.original`, `process.pid`, `log.syslog.*`...).
 */
export interface ParsedFields {
  /** RFC 3339 in UTC (`…Z`), millisecond or finer precision as the source had it. */
  timestamp?: string;
  severityText?: string;
  /** OpenTelemetry SeverityNumber, 1–24. */
  severityNumber?: number;
  body?: string;
  attributes: Record<string, string | number | boolean>;
  resource?: Record<string, string>;
  /** 32 lowercase hex characters. */
  traceId?: string;
  /** 16 lowercase hex characters. */
  spanId?: string;
  /**
   * The field that held a time which did not parse: the record keeps its
   * observed time, and this says so (`tributary.timestamp_fallback`).
   */
  timestampFallback?: string;
}

export type ParseResult = { ok: true; fields: ParsedFields } | { ok: false; error: string };

/** A pure, synchronous parser; it never throws on bad input, it returns `ok: false` with a reason. */
export interface LineParser {
  readonly name: string;
  parse(line: string): ParseResult;
}
