import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../collector/collector.js';
import { encodeEvents, encodeFrame } from '../../shared/frame/frame-codec.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { readTopic, uniqueName, waitFor } from '../helpers/kafka.js';
import { seedRawTopic, startTestCollector } from '../helpers/collector.js';

const goodEvent = (index: number) => ({
  id: index.toString(16).padStart(32, '0'),
  observed_at: '2026-11-23T12:00:00.000Z',
  body: `good ${index}`,
  host: 'h',
  agent_id: 'a',
  source: { type: 'file', name: 'app', path: '/x.log', file_id: '1:1', offset: index },
});

/** `[[[…]]]` 100,000 deep: compresses to a few hundred bytes. */
const deeplyNestedArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

describe('collector dead letters (real broker)', () => {
  const rawTopic = uniqueName('dlq-raw');
  const dlqTopic = uniqueName('dlq-dead');
  const logsTopic = uniqueName('dlq-logs');
  let collector: Collector;
  let recordsFile: string;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-dlq-'));
    recordsFile = join(dir, 'records.ndjson');
    const jsonLine = { ...goodEvent(2), body: '{"time":"2026-11-23T11:00:00.250Z","level":"warning","msg":"disk almost full","disk":{"free_mb":12}}' };
    const good = encodeEvents('raw.log.v1', [goodEvent(1), jsonLine]);
    const mixed = encodeEvents('raw.log.v1', [goodEvent(3), { id: 'broken', body: 7 }]);
    // 13.10: a tiny message whose one line is a deeply nested array (JSON.stringify of it overflows the stack),
    // between good events of the same frame, and a good frame after it: the partition must move past it.
    const nested = encodeFrame('raw.log.v1', `${JSON.stringify(goodEvent(4))}\n${deeplyNestedArray}\n${JSON.stringify(goodEvent(5))}\n`, 3);
    const after = encodeEvents('raw.log.v1', [goodEvent(6)]);
    await seedRawTopic(rawTopic, [
      { key: 'k', value: good.value, headers: good.headers },
      { key: 'k', value: Buffer.from('not zstd at all'), headers: { 'tributary.schema': 'raw.log.v1', 'content-encoding': 'zstd' } },
      { key: 'k', value: mixed.value, headers: mixed.headers },
      { key: 'k', value: nested.value, headers: nested.headers },
      { key: 'k', value: after.value, headers: after.headers },
    ]);
    collector = await startTestCollector(rawTopic, {
      parsers: [{ match: { path: '/*.log' }, parser: { type: 'json' } }],
      outputs: { normalized: { type: 'kafka_topics', logs_topic: logsTopic }, local: { type: 'file', path: recordsFile } },
      dead_letter: { topic: dlqTopic },
    });
  });

  afterAll(async () => {
    await collector.stop();
  });

  it('keeps good records, and sends the undecodable frame and the malformed events to the DLQ with their origin (13.10: a deeply nested array alone)', async () => {
    await waitFor('6 records in the file sink', async () =>
      (await readFile(recordsFile, 'utf8').catch(() => '')).trim().split('\n').length === 6 ? true : undefined,
    );
    const records = (await readFile(recordsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogRecord);
    expect(records.map((record) => record.body)).toEqual(['good 1', 'disk almost full', 'good 3', 'good 4', 'good 5', 'good 6']);
    // The JSON line is parsed: event time, severity and the remaining fields as attributes.
    expect(records[1]).toMatchObject({
      timestamp: '2026-11-23T11:00:00.250Z',
      severity_number: 13,
      severity_text: 'warning',
      attributes: { 'disk.free_mb': 12 },
    });
    // A line the parser rejects keeps its raw body and says why; it is not dropped.
    expect(records[0]?.attributes['tributary.parse_error']).toMatch(/^json: /);

    const letters = await readTopic(dlqTopic, 3);
    expect(letters.map((letter) => letter.headers['tributary.dlq.source.offset'])).toEqual(['1', '2', '3']);
    const [frame, event, nestedLetter] = letters;
    expect(frame?.value.toString()).toBe('not zstd at all');
    expect(frame?.headers).toMatchObject({
      'tributary.dlq.error_code': 'FRAME_INVALID',
      'tributary.dlq.source.topic': rawTopic,
      'tributary.dlq.source.partition': '0',
      'tributary.schema': 'raw.log.v1',
    });
    expect(frame?.headers['tributary.dlq.reason']).toMatch(/not valid zstd data/);
    expect(JSON.parse(event?.value.toString() ?? '')).toEqual({ id: 'broken', body: 7 });
    expect(event?.headers['tributary.dlq.reason']).toMatch(/raw event broken has missing or invalid fields: observed_at, body, host, agent_id, source/);

    // The nested array's letter is its own line, byte for byte, with the reason it is not a raw event.
    expect(nestedLetter?.value.toString()).toBe(deeplyNestedArray);
    expect(nestedLetter?.headers['tributary.dlq.reason']).toBe('frame line 2 nests deeper than 64 levels');

    const exposition = await collector.metrics.registry.metrics();
    expect(exposition).toMatch(/tributary_component_discarded_events_total\{[^}]*reason="frame_invalid"[^}]*\} 3/);
  });
});
