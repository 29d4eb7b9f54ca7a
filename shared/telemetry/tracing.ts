import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

/**
 * Spans through the OpenTelemetry API only: with no SDK registered they cost
 * nothing; an operator who registers one (e.g. via --import of an SDK setup)
 * gets a span per batch or request, never per event.
 */
export const tracer = trace.getTracer('tributary', '0.1.0');

export async function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
