import { basename } from 'node:path';
import { TributaryError } from '../../../shared/errors.js';
import type { LogRecord } from '../../../shared/record/log-record.js';
import { dataObject } from '../../../shared/record/key-path.js';
import type { RawLogEvent } from '../../../shared/record/raw-event.js';
import { copyDataKeys, dataCopy } from '../data-keys.js';

function isRecordOf(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks the fields normalization relies on; frames come from the network and are trusted for nothing. */
export function asRawLogEvent(value: unknown): RawLogEvent {
  if (!isRecordOf(value)) throw new TributaryError('FRAME_INVALID', 'raw event is not a JSON object');
  const { id, observed_at: observedAt, body, host, agent_id: agentId, source } = value;
  const problems: string[] = [];
  if (typeof id !== 'string' || id === '') problems.push('id');
  if (typeof observedAt !== 'string' || Number.isNaN(Date.parse(observedAt))) problems.push('observed_at');
  if (typeof body !== 'string') problems.push('body');
  if (typeof host !== 'string') problems.push('host');
  if (typeof agentId !== 'string') problems.push('agent_id');
  if (!isRecordOf(source) || typeof source.path !== 'string' || typeof source.offset !== 'number') problems.push('source');
  if (problems.length > 0) {
    throw new TributaryError('FRAME_INVALID', `raw event ${typeof id === 'string' ? id : '(no id)'} has missing or invalid fields: ${problems.join(', ')}`);
  }
  return value as unknown as RawLogEvent;
}

/**
 * Raw log event → standard record (tributary.log.v1). Minimal for now: the
 * observed time stands in for the event time and severity is unspecified until
 * parsers extract them.
 */
export function normalizeLogEvent(raw: RawLogEvent, staticResource: Readonly<Record<string, string>> = {}): LogRecord {
  // Raw events come from Kafka, where any producer may write keys such as `__proto__`: data-keyed objects without a prototype, safe keys.
  const attributes: LogRecord['attributes'] = dataObject();
  attributes['log.file.path'] = raw.source.path;
  attributes['log.file.name'] = basename(raw.source.path);
  attributes['log.record.offset'] = raw.source.offset;
  attributes['tributary.source.name'] = raw.source.name;
  if (raw.attributes) copyDataKeys(attributes, raw.attributes);
  if (raw.truncated) attributes['tributary.truncated'] = true;
  const resource: Record<string, string> = dataCopy(staticResource);
  resource['host.name'] = raw.host;
  resource['tributary.agent.id'] = raw.agent_id;
  if (raw.labels) copyDataKeys(resource, raw.labels);
  const runtimeTime = typeof raw.time === 'string' && !Number.isNaN(Date.parse(raw.time)) ? raw.time : undefined;
  // A container runtime time that does not parse is flagged, not silently replaced (same attribute as the parsers').
  if (raw.time !== undefined && runtimeTime === undefined) attributes['tributary.timestamp_fallback'] = 'normalize:time';
  return {
    schema: 'tributary.log.v1',
    id: raw.id,
    timestamp: runtimeTime ?? raw.observed_at,
    observed_timestamp: raw.observed_at,
    severity_number: 0,
    body: raw.body,
    attributes,
    resource,
  };
}

/** Partition key for normalized records: one resource (host, agent, labels) stays in one partition, in order. */
export function resourceKey(resource: Readonly<Record<string, string>>): string {
  return Object.keys(resource)
    .sort()
    .map((key) => `${key}=${resource[key] ?? ''}`)
    .join(',');
}
