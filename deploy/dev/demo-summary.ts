import type { Registry } from 'prom-client';

/** What the demo's summary shows, every number read from the agent's and the collector's own metrics. */
export interface PipelineSummary {
  /** Lines the agent's file sources read (`tributary_component_sent_events_total` of `file` sources). */
  linesRead: number;
  /** Frames the agent's framers produced, one Kafka message each (`tributary_component_sent_batches_total` of framers). */
  framesProduced: number;
  /** Log records the collector normalized (`tributary_component_sent_events_total{component_id="normalize"}`). */
  logRecords: number;
  /** Metric points the collector normalized (`…{component_id="normalize_metrics"}`). */
  metricPoints: number;
  /** Alerts firing now (`tributary_alerts{state="firing"}`). */
  alertsFiring: number;
  /** Alerts the terminal notifier delivered (`tributary_alert_notifications_total{outcome="sent"}` of that notifier). */
  alertNotifications: number;
  /** Messages in the raw topics the collector has not fetched yet (`tributary_consumer_lag_messages`, summed). */
  consumerLag: number;
}

type Labels = Readonly<Record<string, string | number | undefined>>;

/**
 * The sum of a family's series whose labels include `match`; 0 when the family or the series does not exist
 * (yet). Only the families asked for are collected: collecting a whole registry would also reset the event-loop
 * delay recording that the collector's /metrics reports.
 */
async function sumOf(registry: Registry, name: string, match: Labels = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values
    .filter(({ labels }) => Object.entries(match).every(([key, value]) => (labels as Labels)[key] === value))
    .reduce((sum, { value }) => sum + value, 0);
}

export async function readPipelineSummary(agent: Registry, collector: Registry, notifier: string): Promise<PipelineSummary> {
  const [linesRead, framesProduced, logRecords, metricPoints, alertsFiring, alertNotifications, consumerLag] = await Promise.all([
    sumOf(agent, 'tributary_component_sent_events_total', { component_type: 'file', component_kind: 'source' }),
    sumOf(agent, 'tributary_component_sent_batches_total', { component_type: 'framer' }),
    sumOf(collector, 'tributary_component_sent_events_total', { component_id: 'normalize', component_type: 'normalize' }),
    sumOf(collector, 'tributary_component_sent_events_total', { component_id: 'normalize_metrics', component_type: 'normalize' }),
    sumOf(collector, 'tributary_alerts', { state: 'firing' }),
    sumOf(collector, 'tributary_alert_notifications_total', { notifier, outcome: 'sent' }),
    sumOf(collector, 'tributary_consumer_lag_messages'),
  ]);
  return { linesRead, framesProduced, logRecords, metricPoints, alertsFiring, alertNotifications, consumerLag };
}

/** The summary as two lines short enough for an 80-column terminal with today's counts. */
export function formatSummary(summary: PipelineSummary): [string, string] {
  return [
    `lines read ${summary.linesRead}, frames produced ${summary.framesProduced}, records normalized ` +
      `${summary.logRecords + summary.metricPoints} (${summary.logRecords} logs, ${summary.metricPoints} metric points)`,
    `alerts firing ${summary.alertsFiring}, alert notifications ${summary.alertNotifications}, consumer lag ${summary.consumerLag}`,
  ];
}

/** The streams the display writes to: process.stdout and process.stderr, or a test's recorders. */
export interface TerminalStream {
  write(text: string): unknown;
  /** Set on a TTY; lines are cut to it so none wraps (a wrapped line would throw off the redraw). */
  readonly columns?: number;
}

const CURSOR_UP = '\x1b[1A';
const CLEAR_LINE = '\x1b[2K';

/**
 * Text printed above a live summary. On a TTY the summary stays under the last line printed and is redrawn in
 * place: the lines drawn are cleared from the bottom up (cursor up, clear line), the new text is written, and
 * the summary is drawn again below it. Elsewhere (a pipe, a file, CI) nothing is redrawn: the summary is a plain
 * `summary: …` line whenever `showSummary` is called.
 */
export class SummaryDisplay {
  private drawn: readonly string[] = [];
  private released = false;

  constructor(
    private readonly out: TerminalStream,
    private readonly tty: boolean,
  ) {}

  /** Writes `text` (whole lines) to `stream` (stdout unless told), above the summary on a TTY. */
  print(text: string, stream: TerminalStream = this.out): void {
    if (!this.tty || this.released) {
      stream.write(text);
      return;
    }
    const summary = this.drawn;
    this.erase();
    stream.write(text);
    this.draw(summary);
  }

  /**
   * Shows `summary` under `label`: on a TTY redrawn in place (continuation lines indented under the first),
   * otherwise as one plain line `label: line, line`.
   */
  showSummary(summary: readonly string[], label = 'summary'): void {
    if (!this.tty || this.released) {
      this.out.write(`${label}: ${summary.join(', ')}\n`);
      return;
    }
    this.erase();
    this.draw(summary.map((line, index) => (index === 0 ? `${label}: ${line}` : `${' '.repeat(label.length + 2)}${line}`)));
  }

  /** Leaves the summary drawn where it is; what is printed from now on goes below it. */
  release(): void {
    this.released = true;
  }

  private erase(): void {
    if (this.drawn.length === 0) return;
    // The cursor is on the line below the summary, where a Ctrl-C echo may sit: cleared too.
    this.out.write(`\r${CLEAR_LINE}${`${CURSOR_UP}${CLEAR_LINE}`.repeat(this.drawn.length)}`);
    this.drawn = [];
  }

  private draw(summary: readonly string[]): void {
    if (summary.length === 0) return;
    const width = this.out.columns;
    const fitted = summary.map((line) => (width !== undefined && width > 1 && line.length >= width ? line.slice(0, width - 1) : line));
    this.out.write(fitted.map((line) => `${line}\n`).join(''));
    this.drawn = summary;
  }
}
