import { silentLogger } from '../../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { sourceContract } from '../test-support/source-contract.js';
import { hostMetricsSourceSchema } from './config.js';
import { HostMetricsSource } from './host-metrics-source.js';

sourceContract({
  name: 'host_metrics',
  // A reading cannot be taken again: acceptance by the spooled output is the hand-off.
  delivery: 'accepted',
  handOffErrorReason: 'io',
  setup() {
    const { families, metrics } = testComponentMetrics('source');
    // Two cheap collectors, read every 100 ms: the next reading is the next input, so `produce` has nothing to do.
    const config = hostMetricsSourceSchema.parse({ type: 'host_metrics', interval: '100ms', collectors: ['memory', 'load'] });
    return Promise.resolve({
      families,
      async start(consumer, options = {}) {
        const source = new HostMetricsSource('node', config, {
          agentId: 'agent',
          host: 'host',
          consumer,
          // One input, one batch, unless the clause asks for more.
          limits: { maxEvents: options.batchEvents ?? 100_000, maxBytes: 64 << 20 },
          metrics,
          logger: silentLogger(),
        });
        await source.start();
        return { source, produce: () => Promise.resolve() };
      },
      close: () => Promise.resolve(),
    });
  },
});
