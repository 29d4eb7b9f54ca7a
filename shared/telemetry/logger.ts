import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr, so stdout stays free for data (the demo prints records there). `destination`
 * replaces stderr where a terminal display must place the lines itself (the demo's live summary).
 */
export function createLogger(name: string, level = process.env.TRIBUTARY_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino({ name, level, base: { pid: process.pid } }, destination ?? pino.destination({ fd: 2, sync: false }));
}

/** A logger that writes nothing, for unit tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
