import { z } from 'zod';
import type { ProcessorFactory } from '../processor.js';
import { applyParser, parseRuleSchema, ParserSelector, TIMESTAMP_FALLBACK_ATTRIBUTE } from './parse-rules.js';

const parseSection = z.object({
  /** Parsers chosen per record by source, file glob, container or resource; the first matching rule wins. */
  parsers: z.array(parseRuleSchema).default([]),
});

export const parseProcessorFactory: ProcessorFactory<typeof parseSection> = {
  type: 'parse',
  description: 'parses log bodies (JSON, logfmt, syslog, access logs, regex with grok) into attributes, timestamp and severity',
  schema: parseSection,
  create: (_id, config, deps) => {
    const selector = new ParserSelector(config.parsers);
    const metrics = deps.normalizeMetrics['raw.log.v1'];
    return {
      process({ record }) {
        // Metrics have no text to parse.
        if (record.schema !== 'tributary.log.v1') return;
        const parser = selector.select(record);
        if (parser && !applyParser(record, parser)) metrics.error('parse');
        // Also counts a container runtime time that normalize could not read: this is the first step after it
        // for every log record, and the last that may set the attribute.
        if (TIMESTAMP_FALLBACK_ATTRIBUTE in record.attributes) metrics.drop('timestamp_fallback');
      },
    };
  },
};
