import { describe, expect, it } from 'vitest';
import { CollectingConsumer } from '../../../shared/pipeline/collecting-consumer.js';
import type { RawMetricEvent } from '../../../shared/record/raw-event.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { hostMetricsSourceSchema } from './config.js';
import { HostMetricsSource } from './host-metrics-source.js';

describe('HostMetricsSource', () => {
  it('hands each collection on as raw metric events labelled like a node_exporter target, with stable ids per collection time', async () => {
    const consumer = new CollectingConsumer<RawMetricEvent>();
    const config = hostMetricsSourceSchema.parse({ type: 'host_metrics', collectors: ['memory', 'load'], job: 'hosts', labels: { team: 'infra' } });
    const source = new HostMetricsSource('node', config, {
      agentId: 'agent-7',
      host: 'web-1',
      consumer,
      limits: { maxEvents: 10, maxBytes: 1 << 20 },
      metrics: testComponentMetrics('source').metrics,
      logger: silentLogger(),
    });
    const count = await source.collectOnce(1_800_000_000_000);
    const first = consumer.events;
    expect(first).toHaveLength(count);
    // Batches stay within the emit limit, all with one key: the host's series stay in one partition.
    expect(consumer.batches.every((batch) => batch.eventCount <= 10 && batch.schema === 'raw.metric.v1')).toBe(true);
    expect(new Set(consumer.batches.map((batch) => batch.key)).size).toBe(1);

    const load1 = first.find((event) => event.name === 'node_load1');
    expect(load1).toMatchObject({
      observed_at: '2027-01-15T08:00:00.000Z',
      host: 'web-1',
      agent_id: 'agent-7',
      source: { type: 'host_metrics', name: 'node', job: 'hosts', instance: 'web-1' },
      type: 'gauge',
      help: '1m load average.',
      labels: { job: 'hosts', instance: 'web-1', team: 'infra' },
    });
    expect(typeof load1?.value).toBe('number');
    const memTotal = first.find((event) => event.name === 'node_memory_MemTotal_bytes');
    expect(memTotal?.value).toBeGreaterThan(0);
    expect(new Set(first.map((event) => event.id)).size).toBe(first.length);

    // The same collection time gives the same ids (a replay); another time, other ids.
    consumer.batches.length = 0;
    await source.collectOnce(1_800_000_000_000);
    expect(consumer.events.map((event) => event.id).sort()).toEqual(first.map((event) => event.id).sort());
    consumer.batches.length = 0;
    await source.collectOnce(1_800_000_015_000);
    expect(consumer.events.some((event) => first.some((earlier) => earlier.id === event.id))).toBe(false);
  });
});
