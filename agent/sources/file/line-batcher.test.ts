import { describe, expect, it } from 'vitest';
import { sampleValue, testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { fileSourceSchema } from './config.js';
import { LineBatcher, UNTERMINATED_ATTRIBUTE, type LineBatch } from './line-batcher.js';

const ORIGIN = { sourceName: 'app', agentId: 'agent-1', host: 'host-a', path: '/var/log/app.log', identity: 'file-1', labels: undefined };

function batcher(options: Record<string, unknown> = {}, startOffset = 0) {
  const telemetry = testComponentMetrics('source');
  const config = fileSourceSchema.parse({ type: 'file', include: ['/var/log/*.log'], ...options });
  return { lines: new LineBatcher(ORIGIN, config, telemetry.metrics, startOffset), families: telemetry.families };
}

function events(batches: readonly LineBatch[]): Array<Record<string, unknown>> {
  return batches.flatMap((batch) =>
    batch.ndjson
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>),
  );
}

describe('LineBatcher', () => {
  for (const [path, options] of [
    ['the buffer fast path', {}],
    ['the object path (another encoding)', { encoding: 'latin1' }],
  ] as const) {
    it(`${path}: whole lines become events with their offsets; a partial line waits and the resume offset stays before it`, () => {
      const { lines } = batcher(options, 100);
      lines.addChunk(Buffer.from('alpha\nbeta\ngam'), 100);
      const batches = lines.takeBatches();
      expect(batches.map(({ eventCount, resumeOffset }) => ({ eventCount, resumeOffset }))).toEqual([{ eventCount: 2, resumeOffset: 111 }]);
      expect(events(batches).map((event) => [event.body, (event.source as { offset: number }).offset])).toEqual([
        ['alpha', 100],
        ['beta', 106],
      ]);
      lines.addChunk(Buffer.from('ma\n'), 114);
      expect(events(lines.takeBatches()).map((event) => event.body)).toEqual(['gamma']);
      expect(lines.takeBatches()).toEqual([]);
    });
  }

  it('cuts batches of about 56 KiB, each resuming after its own last line', () => {
    const { lines } = batcher();
    const line = `${'x'.repeat(999)}\n`;
    lines.addChunk(Buffer.from(line.repeat(200)), 0);
    const batches = lines.takeBatches();
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.reduce((sum, batch) => sum + batch.eventCount, 0)).toBe(200);
    let lineEnds = 0;
    for (const batch of batches) {
      lineEnds += batch.eventCount * 1000;
      expect(batch.resumeOffset).toBe(lineEnds);
      expect(batch.ndjson.length).toBeLessThan(64 * 1024);
    }
  });

  it('never resumes past a line a multiline stage still holds, and releases it on flush', () => {
    const { lines } = batcher({ multiline: { mode: 'indented' } });
    lines.addChunk(Buffer.from('first\n  more\nsecond\n'), 0);
    const held = lines.takeBatches();
    expect(events(held).map((event) => event.body)).toEqual(['first\n  more']);
    // "second" may still get continuation lines: a restart must read it again.
    expect(held.at(-1)?.resumeOffset).toBe(13);
    lines.flush(true);
    const released = lines.takeBatches();
    expect(events(released).map((event) => event.body)).toEqual(['second']);
    expect(released.at(-1)?.resumeOffset).toBe(20);
  });

  it('a finished file’s last line without a newline is emitted flagged and counted as truncated', async () => {
    const { lines, families } = batcher();
    lines.addChunk(Buffer.from('done\nhalf a li'), 0);
    lines.takeBatches();
    expect(lines.flush(true, 14)).toBe(5);
    const [event] = events(lines.takeBatches());
    expect(event).toMatchObject({ body: 'half a li', truncated: true, attributes: { [UNTERMINATED_ATTRIBUTE]: 'true' } });
    expect(await sampleValue(families, 'tributary_component_truncated_events_total')).toBe(1);
    expect(lines.flush(true, 14)).toBeUndefined();
  });

  it('counts lines cut at max_line_bytes and lines that are not valid UTF-8', async () => {
    const { lines, families } = batcher({ max_line_bytes: '1KiB' });
    lines.addChunk(Buffer.concat([Buffer.from(`${'y'.repeat(3000)}\nok\n`), Buffer.from([0xff, 0xfe, 0x0a])]), 0);
    const bodies = events(lines.takeBatches()).map((event) => event.body as string);
    expect(bodies.map((body) => body.length)).toEqual([1024, 2, 2]);
    expect(await sampleValue(families, 'tributary_component_truncated_events_total')).toBe(1);
    expect(await sampleValue(families, 'tributary_component_invalid_text_events_total')).toBe(1);
  });
});
