import { Writable } from 'node:stream';
import { pino, type Level, type Logger } from 'pino';
import type { OutgoingRecord } from '../../shared/pipeline/record-sink.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import type { MetricRecord } from '../../shared/record/metric-record.js';

/** What the sink tests (unit, against fakes, and integration, against real servers) share. */

/** A record as the collector hands it to a sink; the origin does not matter to the HTTP sinks. */
export const outgoing = (record: LogRecord | MetricRecord): OutgoingRecord => ({
  record,
  json: JSON.stringify(record),
  key: 'k',
  origin: { topic: 'raw', partition: 0, offset: '0', event: 0 },
});

/** A logger whose lines (JSON text) the test reads back, to check what the sink said. */
export function capturingLogger(level: Level): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    }),
  );
  return { logger, lines };
}
