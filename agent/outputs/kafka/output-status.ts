import type { StatusTableSpec } from '../../../shared/telemetry/status.js';

/** The agent's Kafka outputs on the status page: where frames go, whether Kafka takes them, what waits. */
export const KAFKA_OUTPUTS_STATUS_TABLE: StatusTableSpec = {
  id: 'kafka_outputs',
  title: 'Kafka outputs',
  key: ['output'],
  columns: [
    { key: 'output', label: 'output' },
    { key: 'topic', label: 'topic' },
    { key: 'connected', label: 'connected' },
    { key: 'frames_waiting', label: 'frames waiting', unit: 'count' },
    { key: 'bytes_waiting', label: 'bytes waiting', unit: 'bytes' },
    { key: 'buffer', label: 'held in' },
  ],
};
