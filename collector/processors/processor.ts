import type { z } from 'zod';
import type { ComponentFactory } from '../../shared/component/registry.js';
import type { FrameSchema } from '../../shared/frame/frame-codec.js';
import type { NormalizedRecord } from '../../shared/pipeline/record-sink.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';

/** One standard record on its way through the processors. */
export interface InFlightRecord {
  /** Changed in place: records are built per event and never shared before processing ends. */
  readonly record: NormalizedRecord;
  /** Ids of the outputs the record goes to; none until `route` chooses. */
  destinations: readonly string[];
}

/**
 * What every collector processor is: a synchronous step over one record. Synchronous because the pipeline slices
 * its loop by time to keep the event loop responsive; throwing dead-letters that record alone, with the message
 * as the reason.
 */
export interface RecordProcessor {
  process(event: InFlightRecord): void;
}

/** What the collector hands a processor; each takes what it needs. */
export interface ProcessorDeps {
  /** Every output id, in config order. */
  outputIds: readonly string[];
  /**
   * The normalize step's metrics per frame schema. Parse errors and timestamp fallbacks are counted there
   * (`component_id="normalize"`), where dashboards have always read them.
   */
  normalizeMetrics: Readonly<Record<FrameSchema, ComponentMetrics>>;
  /** The processor's own metrics (`component_kind="processor"`); made on first call, so a processor that counts nothing adds no series. */
  metrics(): ComponentMetrics;
}

/** A processor's schema is an object of the top-level collector config keys it owns (e.g. `parsers`). */
export type ProcessorFactory<Schema extends z.ZodObject> = ComponentFactory<Schema, ProcessorDeps, RecordProcessor>;
