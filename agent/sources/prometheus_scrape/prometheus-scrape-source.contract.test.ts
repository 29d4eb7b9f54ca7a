import { createServer } from 'node:http';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { closeLocal, listenLocal } from '../../../shared/test-support/ports.js';
import { sourceContract } from '../test-support/source-contract.js';
import { prometheusScrapeSourceSchema } from './config.js';
import { PrometheusScrapeSource } from './prometheus-scrape-source.js';

sourceContract({
  name: 'prometheus_scrape',
  // A scrape cannot be taken again: acceptance by the spooled output is the hand-off.
  delivery: 'accepted',
  handOffErrorReason: 'scrape',
  async setup() {
    let requests = 0;
    const target = createServer((_request, response) => {
      requests++;
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(`# TYPE requests_total counter\nrequests_total ${requests}\n# TYPE up_since gauge\nup_since 1\n`);
    });
    const port = await listenLocal(target);
    const { families, metrics } = testComponentMetrics('source');
    // Scraped every 100 ms: the next scrape is the next input, so `produce` has nothing to do.
    const config = prometheusScrapeSourceSchema.parse({
      type: 'prometheus_scrape',
      scrape_configs: [{ job_name: 'contract', scrape_interval: '100ms', static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
    });
    return {
      families,
      async start(consumer, options = {}) {
        const source = new PrometheusScrapeSource('scrape', config, {
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
      close: () => closeLocal(target),
    };
  },
});
