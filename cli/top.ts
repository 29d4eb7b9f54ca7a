import type { ProcessStatus, StatusColumn, StatusRow, StatusTable } from '../shared/telemetry/status.js';
import { connectionOptions, telemetryGet, telemetryUrl, type TelemetryConnection } from './telemetry-client.js';

export interface TopCommand {
  readonly urls: readonly string[];
  readonly intervalMs: number;
  /** Print one snapshot and exit (what happens anyway when stdout is not a terminal). */
  readonly once: boolean;
  readonly connection: TelemetryConnection;
}

/** One process as last polled: its status, or why it could not be read. */
export interface PolledProcess {
  readonly url: string;
  readonly status?: ProcessStatus;
  readonly error?: string;
}

/** Rows shown per table; the rest are summarized in one line, so one agent with 10,000 files stays readable. */
const MAX_ROWS = 15;
const STATUS_BYTES = 16 * 1024 * 1024;

function formatBytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${unit === 0 ? String(scaled) : scaled.toFixed(1)} ${units[unit] ?? ''}`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function formatRate(perSecond: number): string {
  return `${perSecond >= 10 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toFixed(1)}/s`;
}

function ago(time: string, now: number): string {
  const seconds = Math.max(0, (now - Date.parse(time)) / 1000);
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s ago`;
  return seconds < 5400 ? `${Math.round(seconds / 60)} min ago` : time;
}

function formatCell(value: StatusRow[string] | undefined, column: StatusColumn, now: number): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return column.unit === 'time' ? ago(value, now) : value;
  if (column.unit === 'bytes') return formatBytes(value);
  if (column.unit === 'seconds') return `${Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 3 : 1)} s`;
  return formatNumber(value);
}

function rowKey(table: StatusTable, row: StatusRow): string {
  return table.key.map((column) => String(row[column])).join('/');
}

/** Cuts to `width` columns of the terminal (the values are ASCII-safe enough; a wide character may overhang). */
function clip(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** A table as fixed-width text lines, counters with their rate since the previous poll. */
function tableLines(table: StatusTable, previous: StatusTable | undefined, seconds: number, now: number, width: number): string[] {
  const lines = [table.title];
  if (table.rows.length === 0) return [...lines, '  (none)'];
  const before = new Map(previous?.rows.map((row) => [rowKey(previous, row), row]) ?? []);
  const shown = table.rows.slice(0, MAX_ROWS);
  const cells = shown.map((row) => {
    const earlier = before.get(rowKey(table, row));
    return table.columns.map((column) => {
      const value = row[column.key];
      const text = formatCell(value, column, now);
      const old = earlier?.[column.key];
      if (column.unit === 'total' && typeof value === 'number' && typeof old === 'number' && seconds > 0)
        return `${text} (${formatRate(Math.max(0, (value - old) / seconds))})`;
      return text;
    });
  });
  const widths = table.columns.map((column, index) => Math.max(column.label.length, ...cells.map((row) => (row[index] ?? '').length)));
  const line = (values: readonly string[]) =>
    clip(
      `  ${values
        .map((value, index) => {
          const columnWidth = widths[index] ?? 0;
          return table.columns[index]?.unit === undefined ? value.padEnd(columnWidth) : value.padStart(columnWidth);
        })
        .join('  ')
        .trimEnd()}`,
      width,
    );
  lines.push(line(table.columns.map((column) => column.label)));
  for (const row of cells) lines.push(line(row));
  if (table.rows.length > shown.length) lines.push(`  … ${table.rows.length - shown.length} more (see /status.json)`);
  return lines;
}

/** One screen: every process polled, each with its header, problems and tables. Pure, for tests. */
export function renderTop(processes: readonly PolledProcess[], previous: ReadonlyMap<string, ProcessStatus>, width: number): string {
  const lines: string[] = [];
  for (const polled of processes) {
    if (polled.status === undefined) {
      lines.push(clip(`${polled.url}  UNREACHABLE  ${polled.error ?? ''}`, width), '');
      continue;
    }
    const { status } = polled;
    const now = Date.parse(status.now);
    const earlier = previous.get(polled.url);
    const seconds = earlier === undefined ? 0 : (now - Date.parse(earlier.now)) / 1000;
    lines.push(
      clip(
        `${status.process} ${status.id}  ${status.ready ? 'READY' : 'NOT READY'}  v${status.version}  ${status.host} pid ${status.pid}  ${polled.url}`,
        width,
      ),
    );
    for (const problem of status.problems) lines.push(clip(`  ! ${problem}`, width));
    for (const table of status.tables) {
      lines.push(
        ...tableLines(
          table,
          earlier?.tables.find((candidate) => candidate.id === table.id),
          seconds,
          now,
          width,
        ),
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** Polls every process once, in parallel; one that does not answer is shown as such, not fatal. */
async function pollAll(urls: readonly URL[], options: Awaited<ReturnType<typeof connectionOptions>>): Promise<PolledProcess[]> {
  return Promise.all(
    urls.map(async (url) => {
      try {
        const response = await telemetryGet(url, '/status.json', options, { timeoutMs: 5_000, maxBodyBytes: STATUS_BYTES });
        if (response.status !== 200) return { url: url.href, error: `answered ${response.status}: ${response.body.toString('utf8').trim().slice(0, 200)}` };
        return { url: url.href, status: JSON.parse(response.body.toString('utf8')) as ProcessStatus };
      } catch (error) {
        return { url: url.href, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

const ALTERNATE_SCREEN = '\u001b[?1049h';
const MAIN_SCREEN = '\u001b[?1049l';
const HOME_AND_CLEAR = '\u001b[H\u001b[2J';

/**
 * `tributary top`: the status of one or many processes in the terminal, redrawn in place every interval on a
 * terminal (in the alternate screen, restored on exit), printed once otherwise. Exit status 1 when a process
 * could not be read in a one-shot run.
 */
export async function runTop(command: TopCommand, stdout: NodeJS.WriteStream = process.stdout): Promise<number> {
  const urls = command.urls.map(telemetryUrl);
  const options = await connectionOptions(command.connection);
  const width = (): number => (stdout.isTTY ? stdout.columns : 200);
  if (command.once || !stdout.isTTY) {
    const polled = await pollAll(urls, options);
    stdout.write(renderTop(polled, new Map(), width()));
    return polled.every((process_) => process_.status !== undefined) ? 0 : 1;
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  stdout.write(ALTERNATE_SCREEN);
  try {
    let previous = new Map<string, ProcessStatus>();
    while (!stop.signal.aborted) {
      const polled = await pollAll(urls, options);
      stdout.write(`${HOME_AND_CLEAR}${renderTop(polled, previous, width())}(every ${command.intervalMs / 1000} s; Ctrl-C to quit)`);
      previous = new Map(polled.flatMap((process_) => (process_.status === undefined ? [] : [[process_.url, process_.status] as const])));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, command.intervalMs);
        stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  } finally {
    stdout.write(MAIN_SCREEN);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
