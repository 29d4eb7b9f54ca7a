import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress } from 'zstd-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../collector/collector.js';
import { encodeFrame } from '../../shared/frame/frame-codec.js';
import { seedRawTopic, startTestCollector } from '../helpers/collector.js';
import { readTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js';

const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** The members of a consumer group, once it is stable. */
async function stableMembers(groupId: string): Promise<string[] | undefined> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    return group?.state === 'Stable' ? group.members.map((member) => member.memberId) : undefined;
  } finally {
    await admin.disconnect();
  }
}

/** Polls /healthz until stopped; remembers the slowest answer (a failed or timed-out request counts as infinite). */
function pollHealth(url: string): { stop: () => Promise<{ slowestMs: number; polls: number }> } {
  const state = { running: true };
  let slowestMs = 0;
  let polls = 0;
  const loop = (async () => {
    while (state.running) {
      const started = performance.now();
      try {
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
        await response.text();
        slowestMs = Math.max(slowestMs, response.ok ? performance.now() - started : Number.POSITIVE_INFINITY);
      } catch {
        slowestMs = Number.POSITIVE_INFINITY;
      }
      polls++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    stop: async () => {
      state.running = false;
      await loop;
      return { slowestMs, polls };
    },
  };
}

describe('collector responsiveness under hostile frames (real broker)', () => {
  const rawTopic = uniqueName('hostile-raw');
  const dlqTopic = uniqueName('hostile-dlq');
  const groupId = uniqueName('hostile-group');
  let collector: Collector;
  let recordsFile: string;

  beforeAll(async () => {
    recordsFile = join(await mkdtemp(join(tmpdir(), 'tributary-hostile-')), 'records.ndjson');
    await seedRawTopic(rawTopic, []);
    collector = await startTestCollector(rawTopic, {
      collector: { group_id: groupId },
      // A short session makes a blocked event loop visible as an eviction within the test's time.
      input: { topics: [rawTopic], max_frame_bytes: MAX_FRAME_BYTES, session_timeout: 10_000, heartbeat_interval: 1_000 },
      outputs: { local: { type: 'file', path: recordsFile } },
      dead_letter: { topic: dlqTopic },
    });
  });

  afterAll(async () => {
    await collector.stop();
  });

  it('13.7/13.9: a frame-count bomb and a max-size frame of tiny events: /healthz answers within 1 s throughout and the member is never evicted', async () => {
    const membersBefore = await waitFor('the collector to join its group', () => stableMembers(groupId));
    expect(membersBefore).toHaveLength(1);

    // ~900 KB of 12-byte zstd frames (stays under a stock broker's 1 MiB message limit): 16 s of blocking CPU before 13.7.
    const tinyFrame = compress(Buffer.from('abc'));
    const bomb = Buffer.concat(Array.from({ length: Math.floor((900 * 1024) / tinyFrame.length) }, () => tinyFrame));
    // One small message that decodes to exactly the frame cap of tiny events, its header claiming one event (13.9).
    const line = `${JSON.stringify({
      id: '0'.repeat(32),
      observed_at: '2026-11-23T12:00:00.000Z',
      body: 'x',
      host: 'h',
      agent_id: 'a',
      source: { type: 'file', name: 'app', path: '/x.log', file_id: '1:1', offset: 0 },
    })}\n`;
    const eventCount = Math.floor(MAX_FRAME_BYTES / line.length);
    const tinyEvents = encodeFrame('raw.log.v1', line.repeat(eventCount), 1);
    expect(tinyEvents.value.length).toBeLessThan(64 * 1024);

    const health = pollHealth(collector.telemetryUrl ?? '');
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic: rawTopic,
      messages: [
        { key: 'k', value: bomb, headers: { 'tributary.schema': 'raw.log.v1', 'content-encoding': 'zstd' } },
        { key: 'k', value: tinyEvents.value, headers: tinyEvents.headers },
      ],
    });
    await producer.disconnect();

    const [letter] = await readTopic(dlqTopic, 1, 120_000);
    expect(letter?.headers['tributary.dlq.reason']).toBe('frame holds more than 4096 concatenated zstd frames');
    // The file sink's own counter, not the file: re-reading tens of MiB every second would load this same event loop.
    const sentByFileSink = new RegExp(`tributary_component_sent_events_total\\{[^}]*component_id="local"[^}]*\\} ${eventCount}\\b`);
    await waitFor(
      `${eventCount} records in the file sink`,
      async () => sentByFileSink.test(await collector.metrics.registry.metrics()) || undefined,
      300_000,
      1_000,
    );
    const { slowestMs, polls } = await health.stop();
    const written = await readFile(recordsFile);
    let lines = 0;
    for (let at = written.indexOf(0x0a); at !== -1; at = written.indexOf(0x0a, at + 1)) lines++;
    expect(lines).toBe(eventCount);
    expect(polls).toBeGreaterThan(3);
    expect(slowestMs).toBeLessThan(1_000);
    // The same member, still stable: no session timeout, no rebalance.
    expect(await stableMembers(groupId)).toEqual(membersBefore);
  }, 400_000);
});
