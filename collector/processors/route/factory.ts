import { z } from 'zod';
import type { ProcessorFactory } from '../processor.js';
import { routeRuleSchema } from './config.js';
import { Router } from './route.js';

const routeSection = z.object({
  /** Routing rules choosing each record's outputs; the first matching rule wins unless it says `continue`. */
  routes: z.array(routeRuleSchema).default([]),
  /** Outputs of records no route matches; every output when unset. */
  default_outputs: z.array(z.string().min(1)).min(1).optional(),
});

export const routeProcessorFactory: ProcessorFactory<typeof routeSection> = {
  type: 'route',
  description: "chooses each record's outputs by rules on its kind, severity, attributes, resource and body",
  schema: routeSection,
  create: (_id, config, deps) => {
    const router = new Router(config, deps.outputIds);
    // Without rules every record goes to the defaults: no per-record matching.
    if (router.trivial) {
      const { defaults } = router;
      return {
        process(event) {
          event.destinations = defaults;
        },
      };
    }
    return {
      process(event) {
        event.destinations = router.route(event.record);
      },
    };
  },
};
