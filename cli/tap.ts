import { connectionOptions, telemetryGet, telemetryUrl, type TelemetryConnection } from './telemetry-client.js';

export interface TapCommand {
  readonly url: string;
  readonly point: string;
  readonly limit: number;
  readonly seconds: number;
  readonly connection: TelemetryConnection;
}

/** Records of one tap, at most: MAX_TAP_LIMIT records of at most a frame each would not fit, and need not. */
const MAX_TAP_BYTES = 256 * 1024 * 1024;

/**
 * `tributary tap`: prints the records passing one point of a running process, one JSON document per line, as
 * they pass, until `limit` were printed or `seconds` went by. Nothing is consumed or committed: the process
 * copies what it already has (telemetry.tap must be on).
 */
export async function runTap(
  command: TapCommand,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const base = telemetryUrl(command.url);
  const query = new URLSearchParams({ point: command.point, limit: String(command.limit), seconds: String(command.seconds) });
  let lines = 0;
  const response = await telemetryGet(base, `/tap?${query.toString()}`, await connectionOptions(command.connection), {
    // The tap ends itself after `seconds`; the margin covers the connection and the last records.
    timeoutMs: command.seconds * 1000 + 10_000,
    maxBodyBytes: MAX_TAP_BYTES,
    onBodyChunk: (chunk, status) => {
      if (status !== 200) return;
      for (const byte of chunk) if (byte === 0x0a) lines++;
      stdout.write(chunk);
    },
  });
  if (response.status !== 200) {
    stderr.write(`tributary tap: ${base.origin} answered ${response.status}: ${response.body.toString('utf8').trim()}\n`);
    return 1;
  }
  stderr.write(`tributary tap: ${lines} record${lines === 1 ? '' : 's'} from ${command.point} (limit ${command.limit}, ${command.seconds} s)\n`);
  return 0;
}
