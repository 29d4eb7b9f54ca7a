// kafkajs is CommonJS without ESM named exports; Node's ESM loader only sees its default export.
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { isRetriableKafkaError, withSecurityErrors, type KafkaAccess, type KafkaAccessNeed } from './errors.js';

const { ConfigResourceTypes } = kafkajs;

/**
 * Kafka's default `message.max.bytes` (1 MiB plus the 12-byte log overhead), which every topic inherits unless
 * it sets `max.message.bytes`: the limit assumed when the broker does not let us describe the topic's config.
 */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

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
async function ensureTopics(admin: Admin, access: KafkaAccess, specs: readonly TopicSpec[]): Promise<string[]> {
  // The broker lists only the topics this principal may Describe: one it may not looks missing, and creating it
  // is denied, whether it exists or not. So a denial there names both.
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.topic));
  const create: KafkaAccessNeed = { resource: 'topic', names: missing.map((spec) => spec.topic), operations: ['Describe', 'Create'] };
  if (missing.length > 0) await access.guard([create], () => createMissing(admin, missing));
  // kafkajs skips waitForLeaders when any topic of the request already existed (another process created it
  // between our listing and our request), and a topic another process has just created may not have a leader
  // yet either; a consumer subscribing then fails with UNKNOWN_TOPIC_OR_PARTITION. So wait for every one.
  const topics = [...new Set(specs.map((spec) => spec.topic))];
  await access.guard([{ resource: 'topic', names: topics, operations: ['Describe'] }], () => waitForLeaders(admin, topics));
  return missing.map((spec) => spec.topic);
}

/** How long the controller may take to create the topics of one request (kafkajs asks for 5 s by default). */
const CREATE_TIMEOUT_MS = 30_000;

/**
 * Per-topic answers to CreateTopics that do not mean the topic cannot exist: another process created it first,
 * or the controller had not finished within the request's timeout (it goes on creating). waitForLeaders then
 * decides: the topic exists with leaders, or the start fails after its deadline.
 */
const CREATION_STILL_POSSIBLE = new Set(['TOPIC_ALREADY_EXISTS', 'REQUEST_TIMED_OUT', 'NOT_CONTROLLER']);

function perTopicErrors(error: unknown): readonly { type?: unknown }[] | undefined {
  if (error === null || typeof error !== 'object' || (error as { name?: unknown }).name !== 'KafkaJSAggregateError') return undefined;
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) ? (errors as { type?: unknown }[]) : undefined;
}

async function createMissing(admin: Admin, missing: readonly TopicSpec[]): Promise<void> {
  try {
    await admin.createTopics({
      // kafkajs' own wait gives up on the first UNKNOWN_TOPIC_OR_PARTITION, which Kafka 4 answers for a moment
      // after creating a topic, and that failed a collector's start (seen in test/e2e/alerting.test.ts); the
      // waitForLeaders below tolerates it, for every topic.
      waitForLeaders: false,
      timeout: CREATE_TIMEOUT_MS,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor ?? -1,
        configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (error) {
    // kafkajs forgives a request whose every topic already exists, not one mixing that with a timed-out topic:
    // three collectors starting at once on a loaded broker failed their start on exactly that (CI, 2026-12-07).
    const errors = perTopicErrors(error);
    if (errors === undefined || !errors.every(({ type }) => typeof type === 'string' && CREATION_STILL_POSSIBLE.has(type))) throw error;
  }
}

/**
 * Waits until every partition of `topics` has a leader that serves it. Metadata names a leader before that
 * leader can answer for the partition: a KRaft broker publishes the new metadata image before its replica
 * manager has created the partition's log, and for that moment answers NOT_LEADER_OR_FOLLOWER (a collector's
 * alert-state restore, the first request to a fresh partition, hit it on every demo start). So once metadata
 * names the leaders, the partitions' offsets are asked of them (ListOffsets goes to each leader) until they answer.
 */
async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await leadersNamed(admin, topics)) && (await leadersServe(admin, topics))) return;
    } catch (error) {
      // Metadata for a topic just created can answer UNKNOWN_TOPIC_OR_PARTITION for a moment; a denial is no moment.
      if (Date.now() >= deadline || isDenied(error)) throw error;
    }
    if (Date.now() >= deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function leadersNamed(admin: Admin, topics: readonly string[]): Promise<boolean> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
  return (
    metadata.length === topics.length && metadata.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0))
  );
}

/**
 * True when every partition's leader answers ListOffsets; false while one answers with a retriable error (the
 * leader not serving yet). Any other answer (no permission to describe the topic) ends the wait: the leader
 * answered, and what the answer means is for the request that needs it.
 */
async function leadersServe(admin: Admin, topics: readonly string[]): Promise<boolean> {
  for (const topic of topics) {
    try {
      await admin.fetchTopicOffsets(topic);
    } catch (error) {
      return !isRetriableKafkaError(error);
    }
  }
  return true;
}

function isDenied(error: unknown): boolean {
  return error !== null && typeof error === 'object' && (error as { type?: unknown }).type === 'TOPIC_AUTHORIZATION_FAILED';
}

/**
 * The largest record batch `topic` accepts: its `max.message.bytes`, which the broker reports as the broker's
 * `message.max.bytes` when the topic does not override it. Undefined when the broker would not say (no
 * DescribeConfigs permission, or an error for that resource).
 */
async function maxMessageBytes(admin: Admin, topic: string): Promise<number | undefined> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
  });
  const resource = resources[0];
  if (resource === undefined || resource.errorCode !== 0) return undefined;
  const value = Number(resource.configEntries.find((entry) => entry.configName === 'max.message.bytes')?.configValue);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** What an output needs at start-up: its topic, made to exist, and the size limit of a record batch in it. */
export interface TopicAdmin {
  /** Creates the missing topics and waits until every one of `specs` has a leader; returns the topics created. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<string[]>;
  maxMessageBytes(topic: string): Promise<number | undefined>;
}

/**
 * Each call connects its own admin client and closes it: these run once at start-up, and a connection held
 * for the process's life would only be one more to keep alive while a broker restarts.
 */
export function topicAdminFor(kafka: Kafka, access: KafkaAccess): TopicAdmin {
  const withAdmin = async <T>(use: (admin: Admin) => Promise<T>): Promise<T> => {
    const admin = kafka.admin();
    await withSecurityErrors(() => admin.connect());
    try {
      return await use(admin);
    } finally {
      await admin.disconnect();
    }
  };
  return {
    ensureTopics: (specs) => (specs.length === 0 ? Promise.resolve([]) : withAdmin((admin) => ensureTopics(admin, access, specs))),
    maxMessageBytes: (topic) =>
      withAdmin((admin) => access.guard([{ resource: 'topic', names: [topic], operations: ['DescribeConfigs'] }], () => maxMessageBytes(admin, topic))),
  };
}
