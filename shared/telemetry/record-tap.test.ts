import { describe, expect, it } from 'vitest';
import { startTelemetryServer } from './http-server.js';
import { PipelineMetrics } from './metrics.js';
import { MAX_OPEN_TAPS, ndjsonLines, RecordTaps, TapRefused } from './record-tap.js';

describe('record taps', () => {
  const points = () => ['processed', 'output.es', 'dead_letter'];

  it('take exactly `limit` records in order, then close and stop costing anything', async () => {
    const taps = new RecordTaps(points);
    const seen: string[] = [];
    const tap = taps.openTap({ point: 'output.es', limit: 3, onSample: ({ json }) => seen.push(json) });
    expect(taps.active('output.es')).toBe(true);
    expect(taps.active('processed')).toBe(false);
    taps.offer('output.es', ['{"a":1}', '{"a":2}']);
    taps.offer('processed', ['{"other":1}']);
    taps.offer('output.es', ['{"a":3}', '{"a":4}']);
    await tap.full;
    expect(seen).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    expect(tap.taken).toBe(3);
    expect(taps.active('output.es')).toBe(false);
  });

  it('iterate a batch only while a tap still wants records (the rest is never made)', () => {
    const taps = new RecordTaps(points);
    taps.openTap({ point: 'processed', limit: 2, onSample: () => undefined });
    let made = 0;
    function* records(): Generator<string> {
      for (let index = 0; index < 1_000; index++) {
        made++;
        yield `{"i":${index}}`;
      }
    }
    taps.offer('processed', records());
    expect(made).toBe(2);
  });

  it('give every open tap of a point its own samples, each up to its own limit', () => {
    const taps = new RecordTaps(points);
    const first: string[] = [];
    const second: string[] = [];
    taps.openTap({ point: 'processed', limit: 1, onSample: ({ json }) => first.push(json) });
    taps.openTap({ point: 'processed', limit: 3, onSample: ({ json }) => second.push(json) });
    taps.offer('processed', ['1', '2', '3', '4']);
    expect(first).toEqual(['1']);
    expect(second).toEqual(['1', '2', '3']);
  });

  it('refuse unknown points (listing the valid ones), limits out of range and more than MAX_OPEN_TAPS at once', () => {
    const taps = new RecordTaps(points);
    const refusal = (open: () => unknown) => {
      try {
        open();
      } catch (error) {
        return error instanceof TapRefused ? `${error.status} ${error.message}` : `not TapRefused: ${String(error)}`;
      }
      return 'opened';
    };
    expect(refusal(() => taps.openTap({ point: 'output.nosuch', limit: 1, onSample: () => undefined }))).toBe(
      '404 no tap point "output.nosuch"; this process has: processed, output.es, dead_letter',
    );
    expect(refusal(() => taps.openTap({ point: 'processed', limit: 0, onSample: () => undefined }))).toBe('400 limit must be an integer from 1 to 1000');
    expect(refusal(() => taps.openTap({ point: 'processed', limit: 1001, onSample: () => undefined }))).toBe('400 limit must be an integer from 1 to 1000');
    const open = Array.from({ length: MAX_OPEN_TAPS }, () => taps.openTap({ point: 'processed', limit: 5, onSample: () => undefined }));
    expect(refusal(() => taps.openTap({ point: 'dead_letter', limit: 1, onSample: () => undefined }))).toBe(
      `429 ${MAX_OPEN_TAPS} taps are open already; try again when one ends`,
    );
    open[0]?.close();
    expect(refusal(() => taps.openTap({ point: 'dead_letter', limit: 1, onSample: () => undefined }))).toBe('opened');
  });

  it('split NDJSON into its lines, with or without a final newline', () => {
    expect([...ndjsonLines('{"a":1}\n{"b":2}\n')]).toEqual(['{"a":1}', '{"b":2}']);
    expect([...ndjsonLines('{"a":1}\n{"b":2}')]).toEqual(['{"a":1}', '{"b":2}']);
    expect([...ndjsonLines('')]).toEqual([]);
  });

  it('are served on /tap only with telemetry.tap, streaming samples and ending at the limit', async () => {
    const registry = new PipelineMetrics('collector', undefined, { processMetrics: false }).registry;
    const health = { live: () => true, ready: () => true };
    const taps = new RecordTaps(points);
    const off = await startTelemetryServer({ listen_address: '127.0.0.1', port: 0 }, registry, health, { taps });
    const on = await startTelemetryServer({ listen_address: '127.0.0.1', port: 0, tap: true }, registry, health, { taps });
    try {
      const refused = await fetch(`${off.url}/tap?point=processed`);
      expect(refused.status).toBe(404);
      expect(await refused.text()).toBe('tap is off: set telemetry.tap: true to sample records here\n');
      expect((await fetch(`${on.url}/tap?point=processed&seconds=0`)).status).toBe(400);
      const response = await fetch(`${on.url}/tap?point=processed&limit=2`);
      expect(response.status).toBe(200);
      expect(taps.active('processed')).toBe(true);
      taps.offer('processed', ['{"n":1}', '{"n":2}', '{"n":3}']);
      expect(await response.text()).toBe('{"n":1}\n{"n":2}\n');
      expect(taps.active('processed')).toBe(false);
    } finally {
      await off.close();
      await on.close();
    }
  });
});
