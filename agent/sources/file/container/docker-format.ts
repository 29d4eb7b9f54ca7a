import type { ContainerLine } from './partial-assembler.js';

/**
 * Parses one line of Docker's json-file log driver:
 *
 *   {"log":"message\n","stream":"stderr","time":"2024-01-01T00:00:00.123456789Z"}
 *
 * `log` holds the bytes the container wrote, including its newline. Docker
 * copies output in buffers of 16 KiB (`daemon/logger/copier.go`) and writes a
 * longer line as several entries; all but the last lack the trailing "\n", so
 * a `log` without it is a partial to be joined with the next entries of the
 * same stream. The final "\n" is stripped, and a "\r" before it too: with a
 * TTY the container writes "\r\n", which a plain-text file would lose to the
 * line splitter as well. Other fields (`attrs`, added by `--log-opt labels`)
 * are ignored.
 *
 * Undefined when the line is not such an object (broken JSON, a line cut by
 * `max_line_bytes`, missing fields).
 */
export function parseDockerLine(text: string): ContainerLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { log, stream, time } = value as Record<string, unknown>;
  if (typeof log !== 'string' || typeof time !== 'string' || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  if (!log.endsWith('\n')) return { time, stream, content: log, partial: true };
  const content = log.endsWith('\r\n') ? log.slice(0, -2) : log.slice(0, -1);
  return { time, stream, content, partial: false };
}
