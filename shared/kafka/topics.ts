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
  if (missing.length > 0) await createMissing(admin, missing);
  // kafkajs skips waitForLeaders when any topic of the request already existed (another process created it
  // between our listing and our request), and a topic another process has just created may not have a leader
  // yet either; a consumer subscribing then fails with UNKNOWN_TOPIC_OR_PARTITION. So wait for every one.
  await waitForLeaders(admin, [...new Set(specs.map((spec) => spec.topic))]);
  return missing.map((spec) => spec.topic);
}

async function createMissing(admin: Admin, missing: readonly TopicSpec[]): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((spec) => ({
      topic: spec.topic,
      numPartitions: spec.partitions,
      replicationFactor: spec.replicationFactor ?? -1,
      configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
  });
}

async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (
        metadata.length === topics.length &&
        metadata.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0))
      ) {
        return;
      }
    } catch (error) {
      // Metadata for a topic just created can answer UNKNOWN_TOPIC_OR_PARTITION for a moment.
      if (Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
