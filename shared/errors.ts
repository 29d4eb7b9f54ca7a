/**
 * One error type for the whole pipeline, in the spirit of kafkajs' KafkaJSError
 * and undici's stable codes: callers branch on `code` and `retriable`, never on
 * message text. Errors are classified once, at the I/O edge that saw them.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'FRAME_INVALID'
  | 'FRAME_TOO_LARGE'
  | 'KAFKA_UNAVAILABLE'
  | 'KAFKA_REJECTED'
  /** Authentication or TLS set-up failed: the message names the `kafka.sasl` / `kafka.tls` key to check. */
  | 'KAFKA_AUTH_FAILED'
  /** The broker's authorizer denied an operation: the message names the ACL to grant and the principal. */
  | 'KAFKA_ACCESS_DENIED'
  | 'SINK_UNAVAILABLE'
  | 'SINK_REJECTED'
  | 'SHUTDOWN'
  | 'INTERNAL';

export interface TributaryErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
