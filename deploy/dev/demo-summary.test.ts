import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AlertingMetrics } from '../../collector/alerting/alerting-metrics.js';
import { PipelineMetrics } from '../../shared/telemetry/metrics.js';
import { SummaryDisplay, formatSummary, readPipelineSummary, type PipelineSummary, type TerminalStream } from './demo-summary.js';

/** Pure: no server. It sits beside the demo it belongs to, so it runs in the integration project's files. */

const UP_CLEAR = '\x1b[1A\x1b[2K';

function recorder(columns?: number): TerminalStream & { text: string } {
  return {
    text: '',
    columns,
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

const SUMMARY: PipelineSummary = {
  linesRead: 61,
  framesProduced: 68,
  logRecords: 61,
  metricPoints: 1129,
  alertsFiring: 1,
  alertNotifications: 2,
  consumerLag: 3,
};

describe('formatSummary', () => {
  it('names every count, records split into logs and metric points', () => {
    expect(formatSummary(SUMMARY)).toEqual([
      'lines read 61, frames produced 68, records normalized 1190 (61 logs, 1129 metric points)',
      'alerts firing 1, alert notifications 2, consumer lag 3',
    ]);
  });
});

describe('SummaryDisplay', () => {
  it('not a TTY: text as written, the summary one plain line each time it is shown, no escape codes', () => {
    const out = recorder();
    const display = new SummaryDisplay(out, false);
    display.print('record a\n');
    display.showSummary(['lines read 1', 'alerts firing 0']);
    display.print('record b\n');
    display.showSummary(['lines read 2', 'alerts firing 1'], 'summary at stop');
    expect(out.text).toBe('record a\nsummary: lines read 1, alerts firing 0\nrecord b\nsummary at stop: lines read 2, alerts firing 1\n');
  });

  it('a TTY: the summary stays under the records, cleared with cursor-up/clear-line and drawn again', () => {
    const out = recorder(80);
    const display = new SummaryDisplay(out, true);
    display.print('demo: starting\n');
    display.showSummary(['lines read 1', 'alerts firing 0']);
    display.print('record a\nrecord b\n');
    display.showSummary(['lines read 3', 'alerts firing 1']);
    expect(out.text).toBe(
      'demo: starting\n' +
        'summary: lines read 1\n         alerts firing 0\n' +
        // Back over the two summary lines (and the line below them, where a ^C echo may sit), then the records.
        `\r\x1b[2K${UP_CLEAR}${UP_CLEAR}record a\nrecord b\n` +
        'summary: lines read 1\n         alerts firing 0\n' +
        `\r\x1b[2K${UP_CLEAR}${UP_CLEAR}summary: lines read 3\n         alerts firing 1\n`,
    );
  });

  it('a TTY: log lines to another stream go above the summary too; released, the summary stays and text follows it', () => {
    const out = recorder(80);
    const err = recorder(80);
    const display = new SummaryDisplay(out, true);
    display.showSummary(['lines read 1']);
    display.print('{"level":50}\n', err);
    expect(err.text).toBe('{"level":50}\n');
    expect(out.text).toBe(`summary: lines read 1\n\r\x1b[2K${UP_CLEAR}summary: lines read 1\n`);
    display.release();
    display.print('demo: stopped cleanly\n');
    expect(out.text.endsWith('summary: lines read 1\ndemo: stopped cleanly\n')).toBe(true);
  });

  it('a TTY: summary lines are cut to the terminal width, so none wraps and throws the redraw off', () => {
    const out = recorder(20);
    const display = new SummaryDisplay(out, true);
    display.showSummary(['lines read 123456789012345']);
    // 19 characters: the last column stays free, as a character there makes some terminals wrap.
    expect(out.text).toBe('summary: lines read\n');
  });
});

describe('readPipelineSummary', () => {
  it('reads the counts from the agent’s and the collector’s own metric families', async () => {
    const agent = new PipelineMetrics('agent', new Registry(), { processMetrics: false });
    const collector = new PipelineMetrics('collector', new Registry(), { processMetrics: false });
    const alerting = new AlertingMetrics(collector.registry);
    agent.component({ component_id: 'app', component_type: 'file', component_kind: 'source' }).eventsOut.inc(61);
    // Another source's events are not lines read.
    agent.component({ component_id: 'host', component_type: 'host_metrics', component_kind: 'source' }).eventsOut.inc(800);
    agent.component({ component_id: 'framer', component_type: 'framer', component_kind: 'processor' }).batchesOut.inc(60);
    agent.component({ component_id: 'metrics_framer', component_type: 'framer', component_kind: 'processor' }).batchesOut.inc(8);
    collector.component({ component_id: 'normalize', component_type: 'normalize', component_kind: 'processor' }).eventsOut.inc(61);
    collector.component({ component_id: 'normalize_metrics', component_type: 'normalize', component_kind: 'processor' }).eventsOut.inc(1129);
    const input = collector.component({ component_id: 'input', component_type: 'kafka', component_kind: 'source' });
    input.consumerLag('tributary.raw.logs', 0, 2);
    input.consumerLag('tributary.raw.logs', 1, 1);
    alerting.alerts.set({ state: 'firing' }, 1);
    alerting.alerts.set({ state: 'pending' }, 4);
    alerting.notifications.inc({ notifier: 'terminal', outcome: 'sent' }, 2);
    alerting.notifications.inc({ notifier: 'kafka', outcome: 'sent' }, 5);
    alerting.notifications.inc({ notifier: 'terminal', outcome: 'failed' }, 7);
    expect(await readPipelineSummary(agent.registry, collector.registry, 'terminal')).toEqual(SUMMARY);
  });
});
