import { describe, expect, it } from 'vitest';
import { TributaryError } from '../shared/errors.js';
import { encodeEvents } from '../shared/frame/frame-codec.js';
import type { ConsumedMessage } from '../shared/kafka/consumer.js';
import type { OutgoingRecord, RecordSink, WriteResult } from '../shared/pipeline/record-sink.js';
import type { RawLogEvent } from '../shared/record/raw-event.js';
import { silentLogger } from '../shared/telemetry/logger.js';
import { testComponentMetrics } from '../shared/telemetry/test-metrics.js';
import type { DeadLetter, DeadLetterWriter } from './outputs/dead_letter/dead-letter-output.js';
import { createEnricher } from './processors/enrich/enrich.js';
import { ParserSelector } from './processors/parse/parse-rules.js';
import { Router } from './processors/route/route.js';
import { RecordPipeline } from './record-pipeline.js';

/** A sink that answers each write with whatever the test scripted. */
class ScriptedSink implements RecordSink {
  readonly writes: string[][] = [];
  constructor(
    readonly id: string,
    private readonly answer: (records: readonly OutgoingRecord[], attempt: number) => Promise<WriteResult | undefined>,
  ) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  write(records: readonly OutgoingRecord[]): Promise<WriteResult | undefined> {
    this.writes.push(records.map((record) => record.record.id));
    return this.answer(records, this.writes.length);
  }
}

class CollectedLetters implements DeadLetterWriter {
  readonly letters: DeadLetter[] = [];
  write(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters);
    return Promise.resolve();
  }
}

function rawEvent(index: number): RawLogEvent {
  return {
    id: index.toString(16).padStart(32, '0'),
    observed_at: '2026-11-23T12:00:00.000Z',
    body: `line ${index}`,
    host: 'h',
    agent_id: 'a',
    source: { type: 'file', name: 'app', path: '/var/log/app.log', file_id: 'f', offset: index * 10 },
  };
}

function message(offset: number, events: RawLogEvent[]): ConsumedMessage {
  const frame = encodeEvents('raw.log.v1', events);
  return {
    offset: String(offset),
    key: null,
    value: frame.value,
    headers: Object.fromEntries(Object.entries(frame.headers).map(([name, value]) => [name, Buffer.from(value)])),
  };
}

function pipeline(sink: RecordSink, letters: DeadLetterWriter): RecordPipeline {
  const { metrics } = testComponentMetrics('processor');
  return new RecordPipeline(
    [sink],
    letters,
    {
      maxFrameBytes: 1 << 20,
      parsers: new ParserSelector([]),
      staticResource: {},
      enrich: createEnricher([]),
      router: new Router({ routes: [] }, [sink.id]),
      enrichMetrics: metrics,
      retry: { initialMs: 1, maxMs: 1 },
    },
    { 'raw.log.v1': metrics, 'raw.metric.v1': metrics },
    silentLogger(),
  );
}

describe('RecordPipeline delivery', () => {
  it('sends exactly the records an output rejects to the dead-letter topic, with the reason and origin, and the rest counts as written', async () => {
    const sink = new ScriptedSink('search', () => Promise.resolve({ rejected: [{ index: 1, reason: 'mapper_parsing_exception: failed to parse field [x]' }] }));
    const letters = new CollectedLetters();
    const result = await pipeline(sink, letters).process('raw', 3, [message(41, [rawEvent(0), rawEvent(1), rawEvent(2)])], new AbortController().signal);
    expect(result).toEqual({ records: 3, deadLetters: 0 });
    expect(sink.writes).toHaveLength(1);
    expect(letters.letters).toHaveLength(1);
    expect(letters.letters[0]).toMatchObject({
      sourceTopic: 'raw',
      sourcePartition: 3,
      sourceOffset: '41',
      reason: 'output search: mapper_parsing_exception: failed to parse field [x]',
      errorCode: 'SINK_REJECTED',
      dropReason: 'sink_rejected',
    });
    expect((JSON.parse(String(letters.letters[0]?.value)) as { id: string }).id).toBe(rawEvent(1).id);
  });

  it('retries a retriable failure of the whole write and dead-letters everything on a permanent one', async () => {
    const flaky = new ScriptedSink('flaky', (_records, attempt) =>
      attempt < 3 ? Promise.reject(new TributaryError('SINK_UNAVAILABLE', 'down', { retriable: true })) : Promise.resolve(undefined),
    );
    const letters = new CollectedLetters();
    await pipeline(flaky, letters).process('raw', 0, [message(1, [rawEvent(0), rawEvent(1)])], new AbortController().signal);
    expect(flaky.writes).toHaveLength(3);
    expect(letters.letters).toEqual([]);

    const refusing = new ScriptedSink('refusing', () => Promise.reject(new TributaryError('SINK_REJECTED', 'index is closed')));
    await pipeline(refusing, letters).process('raw', 0, [message(7, [rawEvent(0), rawEvent(1)])], new AbortController().signal);
    expect(letters.letters.map((letter) => [letter.reason, letter.errorCode])).toEqual([
      ['output refusing: index is closed', 'SINK_REJECTED'],
      ['output refusing: index is closed', 'SINK_REJECTED'],
    ]);
  });
});
