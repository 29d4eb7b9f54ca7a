import type { StatusContribution, StatusReporter, StatusTableSpec } from '../shared/telemetry/status.js';

const STEPS_STATUS_TABLE: StatusTableSpec = {
  id: 'steps',
  title: 'Steps by partition (decode, process, deliver to every output, mark)',
  key: ['topic', 'partition'],
  columns: [
    { key: 'topic', label: 'topic' },
    { key: 'partition', label: 'partition' },
    { key: 'steps', label: 'steps', unit: 'total' },
    { key: 'messages', label: 'messages', unit: 'total' },
    { key: 'last_duration_seconds', label: 'last step', unit: 'seconds' },
    { key: 'slowest_recent_seconds', label: 'slowest of last 100', unit: 'seconds' },
    { key: 'last_step_at', label: 'last step at', unit: 'time' },
  ],
};

const RECENT_STEPS = 100;

interface PartitionSteps {
  steps: number;
  messages: number;
  lastSeconds: number;
  lastAt: number;
  /** Durations of the latest steps, a ring of RECENT_STEPS. */
  recent: number[];
}

/**
 * How long each partition's steps take, for the status page: a slow output shows as slow steps on every
 * partition, a poison frame as one slow partition. Bounded by the partitions this member has ever been
 * assigned (a topic's partition count), each holding RECENT_STEPS numbers.
 */
export class StepTimings implements StatusReporter {
  private readonly partitions = new Map<string, PartitionSteps & { topic: string; partition: number }>();

  record(topic: string, partition: number, messages: number, seconds: number): void {
    const key = `${topic}\u0000${partition}`;
    let entry = this.partitions.get(key);
    if (entry === undefined) {
      entry = { topic, partition, steps: 0, messages: 0, lastSeconds: 0, lastAt: 0, recent: [] };
      this.partitions.set(key, entry);
    }
    entry.recent[entry.steps % RECENT_STEPS] = seconds;
    entry.steps++;
    entry.messages += messages;
    entry.lastSeconds = seconds;
    entry.lastAt = Date.now();
  }

  statusRows(): StatusContribution[] {
    const rows = [...this.partitions.values()]
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
      .map((entry) => ({
        topic: entry.topic,
        partition: entry.partition,
        steps: entry.steps,
        messages: entry.messages,
        last_duration_seconds: entry.lastSeconds,
        slowest_recent_seconds: Math.max(...entry.recent),
        last_step_at: new Date(entry.lastAt).toISOString(),
      }));
    return [{ table: STEPS_STATUS_TABLE, rows }];
  }
}
