import { describe, expect, it } from 'vitest';
import { TributaryError } from '../shared/errors.js';
import { FRAME_HEADER, encodeEvents, encodeFrame, type EncodedFrame } from '../shared/frame/frame-codec.js';
import type { ConsumedMessage } from '../shared/kafka/consumer.js';
import type { OutgoingRecord, RecordSink, WriteResult } from '../shared/pipeline/record-sink.js';
import type { RawLogEvent } from '../shared/record/raw-event.js';
import { silentLogger } from '../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../shared/telemetry/test-metrics.js';
import { validateConfig } from '../shared/config/load.js';
import { waitFor } from '../shared/test-support/wait.js';
import { collectorConfigSchema } from './config.js';
import type { DeadLetter, DeadLetterWriter } from './outputs/dead_letter/dead-letter-output.js';
import { createProcessors } from './processors/registry.js';
import { RecordPipeline, type RecordPipelineOptions } from './record-pipeline.js';

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
  return asMessage(offset, encodeEvents('raw.log.v1', events));
}

function asMessage(offset: number, frame: EncodedFrame): ConsumedMessage {
  return {
    offset: String(offset),
    key: null,
    value: frame.value,
    headers: Object.fromEntries(Object.entries(frame.headers).map(([name, value]) => [name, Buffer.from(value)])),
  };
}

function pipeline(sink: RecordSink, letters: DeadLetterWriter, limits: Partial<RecordPipelineOptions> = {}): RecordPipeline {
  const { metrics } = testComponentMetrics('processor');
  return new RecordPipeline(
    [sink],
    letters,
    {
      maxFrameBytes: 1 << 20,
      staticResource: {},
      processors: createProcessors(
        { parsers: [], enrich: [], routes: [] },
        { outputIds: [sink.id], normalizeMetrics: { 'raw.log.v1': metrics, 'raw.metric.v1': metrics }, metricsFor: () => metrics },
      ),
      retry: { initialMs: 1, maxMs: 1 },
      ...limits,
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

/** A sink that keeps every record it was given and acknowledges. */
function collectingSink(id = 'out'): ScriptedSink {
  return new ScriptedSink(id, () => Promise.resolve(undefined));
}

/** Line `[[[…]]]` nested `depth` deep: JSON.stringify of its value overflows the stack (JSON.parse alone takes ~1 s per 256k levels). */
function deeplyNestedArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

describe('RecordPipeline per-record failures', () => {
  it('13.10: a deeply nested JSON array event is dead-lettered alone with its reason; the rest of the step is delivered', async () => {
    const nested = deeplyNestedArray(200_000);
    const ndjson = `${JSON.stringify(rawEvent(0))}\n${nested}\n${JSON.stringify(rawEvent(2))}\n`;
    const frame = encodeFrame('raw.log.v1', ndjson, 3);
    // The audit's message was 179 bytes; the nesting compresses to almost nothing.
    expect(frame.value.length).toBeLessThan(400);
    const sink = collectingSink();
    const letters = new CollectedLetters();
    const result = await pipeline(sink, letters).process('raw', 2, [asMessage(9, frame)], new AbortController().signal);
    expect(sink.writes).toEqual([[rawEvent(0).id, rawEvent(2).id]]);
    expect(result).toEqual({ records: 2, deadLetters: 1 });
    expect(letters.letters).toHaveLength(1);
    expect(letters.letters[0]).toMatchObject({ sourceTopic: 'raw', sourcePartition: 2, sourceOffset: '9', eventCount: 1, dropReason: 'frame_invalid' });
    expect(letters.letters[0]?.reason).toBe('frame line 2 nests deeper than 64 levels');
    // The letter carries the line itself: re-serializing the event would overflow the stack again.
    expect(String(letters.letters[0]?.value)).toBe(nested);
  });

  it('13.10: a line that is not JSON is dead-lettered alone; the other events of the frame are delivered', async () => {
    const frame = encodeFrame('raw.log.v1', `${JSON.stringify(rawEvent(0))}\n{broken\n${JSON.stringify(rawEvent(2))}\n`, 3);
    const sink = collectingSink();
    const letters = new CollectedLetters();
    await pipeline(sink, letters).process('raw', 0, [asMessage(4, frame)], new AbortController().signal);
    expect(sink.writes).toEqual([[rawEvent(0).id, rawEvent(2).id]]);
    expect(letters.letters.map((letter) => [letter.reason, letter.errorCode, String(letter.value)])).toEqual([
      ['frame line 2 is not valid JSON', 'FRAME_INVALID', '{broken'],
    ]);
  });

  it('13.10: an output that throws an untyped error for one record dead-letters only that record', async () => {
    const poisoned = rawEvent(5).id;
    const sink = new ScriptedSink('fragile', (records) =>
      records.some((record) => record.record.id === poisoned) ? Promise.reject(new RangeError('Maximum call stack size exceeded')) : Promise.resolve(undefined),
    );
    const letters = new CollectedLetters();
    const events = Array.from({ length: 8 }, (_, index) => rawEvent(index));
    await pipeline(sink, letters).process('raw', 1, [message(30, events)], new AbortController().signal);
    const delivered = sink.writes.filter((ids) => !ids.includes(poisoned)).flat();
    expect(delivered.sort()).toEqual(events.map((event) => event.id).filter((id) => id !== poisoned));
    expect(letters.letters.map((letter) => [letter.reason, letter.errorCode, letter.sourceOffset])).toEqual([
      ['output fragile: Maximum call stack size exceeded', 'OUTPUT_FAILED', '30'],
    ]);
  });
});

describe('RecordPipeline steps', () => {
  /** One frame of `count` tiny events whose header claims one event. */
  function lyingFrame(offset: number, count: number): ConsumedMessage {
    const events = Array.from({ length: count }, (_, index) => rawEvent(offset * 1_000_000 + index));
    const frame = encodeEvents('raw.log.v1', events);
    return asMessage(offset, { ...frame, headers: { ...frame.headers, [FRAME_HEADER.eventCount]: '1' } });
  }

  it('13.9: steps are bounded by decoded events, not by the event-count header, and the offset of a frame completes with its last line', async () => {
    const sink = collectingSink();
    const letters = new CollectedLetters();
    const reader = pipeline(sink, letters, { maxStepEvents: 1000, maxStepBytes: 1 << 30 }).steps('raw', 0, [lyingFrame(1, 2500), lyingFrame(2, 10)]);
    const steps = [];
    for (let step = await reader.read(); step !== undefined; step = await reader.read()) {
      steps.push({ events: step.events.length, completedOffset: step.completedOffset, completedMessages: step.completedMessages });
    }
    expect(steps).toEqual([
      { events: 1000, completedOffset: undefined, completedMessages: 0 },
      { events: 1000, completedOffset: undefined, completedMessages: 0 },
      { events: 510, completedOffset: '2', completedMessages: 2 },
    ]);
  });

  it('a frame spread over steps gives each event its position in the frame, undecodable lines counted, so a sink can dedupe by (offset, event)', async () => {
    const lines = [JSON.stringify(rawEvent(0)), '{broken', ...Array.from({ length: 5 }, (_, index) => JSON.stringify(rawEvent(index + 2)))];
    const frame = encodeFrame('raw.log.v1', `${lines.join('\n')}\n`, lines.length);
    const reader = pipeline(collectingSink(), new CollectedLetters(), { maxStepEvents: 3, maxStepBytes: 1 << 30 }).steps('raw', 0, [
      asMessage(7, frame),
      lyingFrame(8, 2),
    ]);
    const positions: string[] = [];
    for (let step = await reader.read(); step !== undefined; step = await reader.read()) {
      positions.push(step.events.map((event) => `${event.message.offset}-${event.index}`).join(' '));
    }
    // The letter (line 1) takes room in the first step too.
    expect(positions).toEqual(['7-0 7-2', '7-3 7-4 7-5', '7-6 8-0 8-1']);
  });

  it('cuts a large frame at the same events whatever preceded it in the fetch, so a replay from another offset splits it the same way', async () => {
    async function cutsOfFrame2(messages: ConsumedMessage[]): Promise<string[]> {
      const reader = pipeline(collectingSink(), new CollectedLetters(), { maxStepEvents: 1000, maxStepBytes: 1 << 30 }).steps('raw', 0, messages);
      const cuts: string[] = [];
      for (let step = await reader.read(); step !== undefined; step = await reader.read()) {
        expect(step.events.length).toBeLessThanOrEqual(2000);
        const own = step.events.filter((event) => event.message.offset === '2').map((event) => event.index);
        if (own.length > 0) cuts.push(`${own[0]}..${own[own.length - 1]}`);
      }
      return cuts;
    }
    const alone = await cutsOfFrame2([lyingFrame(2, 2500)]);
    expect(alone).toEqual(['0..999', '1000..1999', '2000..2499']);
    expect(await cutsOfFrame2([lyingFrame(1, 700), lyingFrame(2, 2500)])).toEqual(alone);
    expect(await cutsOfFrame2([lyingFrame(0, 1), lyingFrame(1, 1999), lyingFrame(2, 2500), lyingFrame(3, 5)])).toEqual(alone);
  });

  it('13.9: steps are bounded by decoded bytes', async () => {
    const reader = pipeline(collectingSink(), new CollectedLetters(), { maxStepEvents: 1_000_000, maxStepBytes: 64 * 1024 }).steps('raw', 0, [
      lyingFrame(1, 2000),
    ]);
    const line = Buffer.byteLength(JSON.stringify(rawEvent(1_000_000)));
    const sizes: number[] = [];
    for (let step = await reader.read(); step !== undefined; step = await reader.read()) {
      const bytes = step.events.reduce((sum, event) => sum + event.line.length, 0);
      expect(bytes).toBeLessThan(64 * 1024 + line + 16);
      sizes.push(step.events.length);
    }
    expect(sizes.reduce((sum, count) => sum + count, 0)).toBe(2000);
    expect(sizes.length).toBeGreaterThan(2);
  });

  it('13.9: a message inflating to many tiny events never holds the event loop for long', async () => {
    // ~8 MiB of tiny events in one ~100 KB message (the audit's 64 MiB frame scaled down for the unit suite).
    const ndjson =
      '{"id":"0","observed_at":"2026-11-23T12:00:00.000Z","body":"x","host":"h","agent_id":"a","source":{"type":"file","name":"app","path":"/p","file_id":"f","offset":0}}\n'.repeat(
        60_000,
      );
    const frame = encodeFrame('raw.log.v1', ndjson, 1);
    const sink = collectingSink();
    // CPU time between two ticks of a timer is work that held the event loop; wall time would also count the
    // time this process waits for a core on a loaded machine.
    let longestGapMs = 0;
    let longestWallMs = 0;
    let last = process.cpuUsage();
    let lastWall = performance.now();
    const ticker = setInterval(() => {
      const used = process.cpuUsage(last);
      longestGapMs = Math.max(longestGapMs, (used.user + used.system) / 1000);
      longestWallMs = Math.max(longestWallMs, performance.now() - lastWall);
      last = process.cpuUsage();
      lastWall = performance.now();
    }, 1);
    try {
      const result = await pipeline(sink, new CollectedLetters(), { maxStepEvents: 10_000, maxFrameBytes: 64 << 20 }).process(
        'raw',
        0,
        [asMessage(3, frame)],
        new AbortController().signal,
      );
      expect(result.records).toBe(60_000);
    } finally {
      clearInterval(ticker);
    }
    expect(sink.writes.map((ids) => ids.length)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
    // Slices are 20 ms. cpuUsage is process-wide (GC helper threads count too), so the bound leaves room for a
    // parallel GC under a loaded suite; unsliced, this message holds the loop for seconds (~60k events at once).
    expect(longestGapMs).toBeLessThan(250);
  });
});

/** A collector whose outputs are `ids` (file outputs: only their ids matter here) and whose processors come from `extra`. */
function configured(sinks: readonly RecordSink[], extra: Record<string, unknown>, taps: readonly RecordSink[] = []) {
  const outputs = Object.fromEntries(sinks.map((sink) => [sink.id, { type: 'file', path: `/tmp/${sink.id}` }]));
  const config = validateConfig(collectorConfigSchema, { kafka: { brokers: ['k:9092'] }, outputs, ...extra }, 'collector.yaml', {});
  const logs = testComponentMetrics('processor');
  const metrics = logs.families.component({ component_id: 'normalize', component_type: 'normalize', component_kind: 'processor' });
  const letters = new CollectedLetters();
  const records = new RecordPipeline(
    sinks,
    letters,
    {
      maxFrameBytes: 1 << 20,
      staticResource: { 'deployment.environment': 'test' },
      processors: createProcessors(config, {
        outputIds: sinks.map((sink) => sink.id),
        normalizeMetrics: { 'raw.log.v1': logs.metrics, 'raw.metric.v1': metrics },
        metricsFor: () => logs.metrics,
      }),
      retry: { initialMs: 1, maxMs: 1 },
      taps,
    },
    { 'raw.log.v1': logs.metrics, 'raw.metric.v1': metrics },
    silentLogger(),
  );
  return { records, letters, families: logs.families };
}

/** A sink keeping every record it acknowledged. */
class RecordingSink extends ScriptedSink {
  readonly received: OutgoingRecord[] = [];
  constructor(id: string) {
    super(id, (records) => {
      this.received.push(...records);
      return Promise.resolve(undefined);
    });
  }
}

const withBody = (index: number, body: string): RawLogEvent => ({ ...rawEvent(index), body });
const run = (records: RecordPipeline, messages: ConsumedMessage[]) => records.process('raw', 0, messages, new AbortController().signal);

describe('RecordPipeline core (ARCHITECTURE.md: normalize → parse → enrich → route → outputs)', () => {
  it('runs normalize, parse, enrich and route in that order: a route matches what enrich made of what parse extracted', async () => {
    const payments = new RecordingSink('payments');
    const rest = new RecordingSink('rest');
    const { records } = configured([payments, rest], {
      parsers: [{ match: {}, parser: { type: 'json' } }],
      // Only a parsed record has attributes.team, and only after enrich is it in the resource the route matches.
      enrich: [{ rename: { from: 'attributes.team', to: 'resource.team' } }],
      routes: [{ match: { resource: { team: 'payments' } }, outputs: ['payments'] }],
      default_outputs: ['rest'],
    });
    const events = [
      withBody(0, '{"team":"payments","message":"paid","level":"error"}'),
      withBody(1, '{"team":"ops","message":"restarted"}'),
      withBody(2, 'plain text'),
    ];
    expect(await run(records, [message(5, events)])).toEqual({ records: 3, deadLetters: 0 });
    expect(payments.received.map(({ record }) => record.id)).toEqual([events[0]?.id]);
    expect(rest.received.map(({ record }) => record.id)).toEqual([events[1]?.id, events[2]?.id]);
    const paid = payments.received[0]?.record;
    expect(paid).toMatchObject({
      body: 'paid',
      severity_number: 17,
      // normalize set host and the static resource; enrich moved the parsed team there.
      resource: { 'host.name': 'h', 'deployment.environment': 'test', team: 'payments' },
    });
    expect(paid?.attributes).not.toHaveProperty('team');
    expect(rest.received.map(({ record }) => (record.schema === 'tributary.log.v1' ? record.body : undefined))).toEqual(['restarted', 'plain text']);
    expect(payments.received[0]?.origin).toEqual({ topic: 'raw', partition: 0, offset: '5', event: 0 });
  });

  it('dead-letters a record a processor throws on, with the reason and its own line; the rest continue, counted exactly', async () => {
    const sink = new RecordingSink('out');
    const { metrics, families } = testComponentMetrics('processor');
    const letters = new CollectedLetters();
    const failing = {
      process: ({ record }: { record: OutgoingRecord['record'] }) => {
        if (record.schema === 'tributary.log.v1' && record.body === 'poison') throw new Error('poison is not allowed');
      },
    };
    const records = new RecordPipeline(
      [sink],
      letters,
      {
        maxFrameBytes: 1 << 20,
        staticResource: {},
        processors: [failing, { process: (event) => (event.destinations = ['out']) }],
        retry: { initialMs: 1, maxMs: 1 },
      },
      { 'raw.log.v1': metrics, 'raw.metric.v1': metrics },
      silentLogger(),
    );
    const events = [rawEvent(0), withBody(1, 'poison'), rawEvent(2)];
    expect(await run(records, [message(12, events)])).toEqual({ records: 2, deadLetters: 1 });
    expect(sink.received.map(({ record }) => record.id)).toEqual([events[0]?.id, events[2]?.id]);
    // The letter's value is the event's own line (a Buffer): compared as text.
    expect(letters.letters.map((letter) => ({ ...letter, value: String(letter.value) }))).toEqual([
      {
        sourceTopic: 'raw',
        sourcePartition: 0,
        sourceOffset: '12',
        reason: 'poison is not allowed',
        errorCode: 'RECORD_INVALID',
        key: null,
        value: JSON.stringify(events[1]),
        eventCount: 1,
        dropReason: 'frame_invalid',
      },
    ]);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'decode' })).toBe(1);
    expect(await sampleValue(families, 'tributary_component_sent_events_total')).toBe(2);
  });

  it('gives each output only its routed records, writes nothing to an output with none, and a tap sees every record', async () => {
    const errors = new RecordingSink('errors');
    const all = new RecordingSink('all');
    const idle = new RecordingSink('idle');
    const tap = new RecordingSink('tap');
    const { records } = configured(
      [errors, all, idle],
      {
        parsers: [{ match: {}, parser: { type: 'json' } }],
        routes: [
          { match: { severity_at_least: 'ERROR' }, outputs: ['errors', 'all'] },
          { match: {}, outputs: ['all'] },
        ],
      },
      [tap],
    );
    const events = [
      withBody(0, '{"message":"a","level":"info"}'),
      withBody(1, '{"message":"b","level":"error"}'),
      withBody(2, '{"message":"c","level":"warn"}'),
    ];
    await run(records, [message(1, events)]);
    const ids = (sink: RecordingSink) => sink.received.map(({ record }) => record.id);
    expect(ids(errors)).toEqual([events[1]?.id]);
    expect(ids(all)).toEqual(events.map((event) => event.id));
    expect(idle.writes).toEqual([]);
    expect(ids(tap)).toEqual(events.map((event) => event.id));
  });

  it('counts records out per frame schema once the step is acknowledged', async () => {
    const sink = new RecordingSink('out');
    const { records, families } = configured([sink], {});
    await run(records, [message(1, [rawEvent(0), rawEvent(1)]), message(2, [rawEvent(2)]), asMessage(3, encodeFrame('raw.log.v1', '{broken\n', 1))]);
    expect(await sampleValue(families, 'tributary_component_sent_events_total', { component_id: 'test' })).toBe(3);
    expect(await sampleValue(families, 'tributary_component_sent_events_total', { component_id: 'normalize' })).toBe(0);
    expect(await sampleValue(families, 'tributary_component_errors_total', { reason: 'decode' })).toBe(1);
  });

  it('resolves a step only when every output and the dead-letter topic acknowledged it', async () => {
    const gates = new Map<string, () => void>();
    const held = (id: string) => new ScriptedSink(id, () => new Promise<undefined>((resolve) => gates.set(id, () => resolve(undefined))));
    const slow = held('slow');
    const slower = held('slower');
    const { records, letters } = configured([slow, slower], {});
    let done = false;
    const step = run(records, [message(1, [rawEvent(0)]), asMessage(2, encodeFrame('raw.log.v1', '{broken\n', 1))]).then((result) => {
      done = true;
      return result;
    });
    await waitFor('both outputs to be written', () => gates.size === 2);
    gates.get('slow')?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    gates.get('slower')?.();
    expect(await step).toEqual({ records: 1, deadLetters: 1 });
    expect(letters.letters.map((letter) => letter.sourceOffset)).toEqual(['2']);
  });
});
