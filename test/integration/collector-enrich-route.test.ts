import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../collector/collector.js';
import { encodeEvents } from '../../shared/frame/frame-codec.js';
import { uniqueName, waitFor } from '../helpers/kafka.js';
import { seedRawTopic, startTestCollector } from '../helpers/collector.js';

const event = (index: number, line: Record<string, unknown>) => ({
  id: index.toString(16).padStart(32, '0'),
  observed_at: '2026-11-23T12:00:00.000Z',
  body: JSON.stringify(line),
  host: 'h',
  agent_id: 'a',
  source: { type: 'file', name: 'app', path: '/x.log', file_id: '1:1', offset: index },
});

async function lines(file: string): Promise<unknown[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text === ''
    ? []
    : text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown);
}

describe('collector enrich and route (real broker)', () => {
  const rawTopic = uniqueName('enrich-raw');
  let collector: Collector;
  let errorsFile: string;
  let restFile: string;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-enrich-'));
    errorsFile = join(dir, 'errors.ndjson');
    restFile = join(dir, 'rest.ndjson');
    const frame = encodeEvents('raw.log.v1', [
      event(1, { time: '2026-11-23T11:00:00.000Z', level: 'info', msg: 'login by bob@example.com', user: 'bob', session: 's1' }),
      event(2, { time: '2026-11-23T11:00:01.000Z', level: 'error', msg: 'payment failed for eve@example.org', user: 'eve', session: 's2' }),
      event(3, { time: '2026-11-23T11:00:02.000Z', level: 'warn', msg: 'slow query', user: 'bob', session: 's3' }),
    ]);
    await seedRawTopic(rawTopic, [{ key: 'k', value: frame.value, headers: frame.headers }]);
    collector = await startTestCollector(rawTopic, {
      parsers: [{ match: { path: '/*.log' }, parser: { type: 'json' } }],
      enrich: [
        { add: { resource: { 'deployment.environment': 'test' } } },
        { rename: { from: 'attributes.user', to: 'attributes.user.name' } },
        { drop: ['attributes.session'] },
        { redact: { patterns: ['email'] } },
      ],
      routes: [{ match: { severity_at_least: 'ERROR' }, outputs: ['errors'] }],
      default_outputs: ['rest'],
      outputs: { errors: { type: 'file', path: errorsFile }, rest: { type: 'file', path: restFile } },
    });
  });

  afterAll(async () => {
    await collector.stop();
  });

  it('redacts, renames and drops, and routes ERROR records to one output and the rest to the other', async () => {
    await waitFor('3 records across the file sinks', async () => ((await lines(errorsFile)).length + (await lines(restFile)).length === 3 ? true : undefined));
    const record = (index: number, timestamp: string, severity: [number, string], body: string, user: string) => ({
      schema: 'tributary.log.v1',
      id: index.toString(16).padStart(32, '0'),
      timestamp,
      observed_timestamp: '2026-11-23T12:00:00.000Z',
      severity_number: severity[0],
      severity_text: severity[1],
      body,
      // `user` renamed, `session` dropped.
      attributes: { 'tributary.source.name': 'app', 'log.file.path': '/x.log', 'log.file.name': 'x.log', 'log.record.offset': index, 'user.name': user },
      resource: { 'host.name': 'h', 'tributary.agent.id': 'a', 'deployment.environment': 'test' },
    });
    expect(await lines(errorsFile)).toEqual([record(2, '2026-11-23T11:00:01.000Z', [17, 'error'], 'payment failed for [REDACTED]', 'eve')]);
    expect(await lines(restFile)).toEqual([
      record(1, '2026-11-23T11:00:00.000Z', [9, 'info'], 'login by [REDACTED]', 'bob'),
      record(3, '2026-11-23T11:00:02.000Z', [13, 'warn'], 'slow query', 'bob'),
    ]);

    const exposition = await collector.metrics.registry.metrics();
    expect(exposition).toMatch(/tributary_component_redactions_total\{[^}]*component_id="enrich"[^}]*\} 2/);
    // Records routed to the other output are not drops.
    expect(exposition).not.toMatch(/tributary_component_discarded_events_total\{/);
  });
});
