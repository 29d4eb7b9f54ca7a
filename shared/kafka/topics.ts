import type { Admin } from 'kafkajs';
import type { KafkaClient } from './client.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  /** Broker-side topic configs, e.g. { 'max.message.bytes': '8388608' }. */
  configs?: Record<string, string>;
}

/**
 * Creates the topics that are missing; existing topics are left as they are
 * (their partition count is an operator's decision, not ours to change).
 * Returns the topics that were created.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((spec) => ({
      topic: spec.topic,
      numPartitions: spec.partitions,
      replicationFactor: spec.replicationFactor ?? -1,
      configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
  });
  return missing.map((spec) => spec.topic);
}

/** Connects an admin client just for topic creation; used at start-up by outputs. */
export async function ensureTopicsWith(client: KafkaClient, specs: readonly TopicSpec[]): Promise<string[]> {
  if (specs.length === 0) return [];
  const admin = client.admin();
  await admin.connect();
  try {
    return await ensureTopics(admin, specs);
  } finally {
    await admin.disconnect();
  }
}
