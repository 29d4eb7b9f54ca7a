import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROCESS_NODE_FLAGS } from '../../shared/process/node-flags.js';
import { waitFor } from '../helpers/kafka.js';
import { CLI } from '../helpers/processes.js';

interface SummaryLine {
  label: string;
  linesRead: number;
  framesProduced: number;
  recordsNormalized: number;
  logRecords: number;
  metricPoints: number;
  alertsFiring: number;
  alertNotifications: number;
  consumerLag: number;
}

const SUMMARY =
  /^(summary|summary at stop): lines read (\d+), frames produced (\d+), records normalized (\d+) \((\d+) logs, (\d+) metric points\), alerts firing (\d+), alert notifications (\d+), consumer lag (\d+)$/gm;

function summaries(stdout: string): SummaryLine[] {
  return [...stdout.matchAll(SUMMARY)].map((match) => {
    const number = (group: number) => Number(match[group]);
    return {
      label: match[1] ?? '',
      linesRead: number(2),
      framesProduced: number(3),
      recordsNormalized: number(4),
      logRecords: number(5),
      metricPoints: number(6),
      alertsFiring: number(7),
      alertNotifications: number(8),
      consumerLag: number(9),
    };
  });
}

const RECORD = /^record [0-9a-f]{12} \S+ shop\.log: .+$/gm;
const ALERT = /^alert (firing|resolved) InventoryErrors: \d+ inventory lookup failures in 10s$/gm;
const count = (pattern: RegExp, text: string) => [...text.matchAll(pattern)].length;

/** The README's first command: `tributary demo` runs the whole pipeline on its own broker and stops cleanly on Ctrl-C. */
describe('tributary demo (the compiled CLI)', () => {
  it('starts without a warning, prints records and its alert, a summary from the processes’ metrics that matches them, and stops cleanly on SIGINT', async () => {
    // stdout is a pipe, not a TTY: the summary comes as plain lines.
    const child = spawn(process.execPath, [...PROCESS_NODE_FLAGS, CLI, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('a record from the generated log', () => (/^record [0-9a-f]{12} .*: .*GET \/api\/orders/m.test(stdout) ? true : undefined), 180_000, 250);
      await waitFor(
        'the demo alert firing',
        () => (/^alert firing InventoryErrors: \d+ inventory lookup failures in 10s$/m.test(stdout) ? true : undefined),
        90_000,
        250,
      );
      const alertAt = stdout.indexOf('alert firing');
      // A summary drawn after the alert printed counts it (the gauge moves before the notification is sent).
      await waitFor('a summary line after the alert', () => (summaries(stdout.slice(alertAt)).length > 0 ? true : undefined), 30_000, 250);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toContain('demo: stopped cleanly');

      // A normal start says nothing at warn or above (the demo logs at warn): no leader elections, no restore retries.
      const logged = stderr
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(logged.filter((line) => line.level >= 40)).toEqual([]);

      const lines = summaries(stdout);
      const periodic = lines.filter((line) => line.label === 'summary');
      const atStop = lines.filter((line) => line.label === 'summary at stop');
      expect(atStop).toHaveLength(1);
      expect(periodic.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) expect(line.recordsNormalized).toBe(line.logRecords + line.metricPoints);
      // Counters only grow.
      for (let index = 1; index < periodic.length; index++) {
        const [earlier, later] = [periodic[index - 1] as SummaryLine, periodic[index] as SummaryLine];
        expect(later.linesRead).toBeGreaterThanOrEqual(earlier.linesRead);
        expect(later.framesProduced).toBeGreaterThanOrEqual(earlier.framesProduced);
        expect(later.recordsNormalized).toBeGreaterThanOrEqual(earlier.recordsNormalized);
      }
      const afterAlert = summaries(stdout.slice(alertAt))[0] as SummaryLine;
      expect(afterAlert.alertsFiring).toBe(1);
      expect(afterAlert.alertNotifications).toBeGreaterThanOrEqual(1);

      // At stop the collector has caught up with everything the agent read: the counts are the records printed.
      const final = atStop[0] as SummaryLine;
      const recordsPrinted = count(RECORD, stdout);
      expect(recordsPrinted).toBeGreaterThan(0);
      expect(final.linesRead).toBe(recordsPrinted);
      expect(final.logRecords).toBe(recordsPrinted);
      expect(final.alertNotifications).toBe(count(ALERT, stdout));
      expect(final.consumerLag).toBe(0);
      // Host metrics and the scrape of the collector ran at least once each (every 10 s).
      expect(final.metricPoints).toBeGreaterThan(0);
      // At least one log frame and one metrics frame.
      expect(final.framesProduced).toBeGreaterThanOrEqual(2);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${String(error)}\nstdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`);
    }
  }, 300_000);
});
