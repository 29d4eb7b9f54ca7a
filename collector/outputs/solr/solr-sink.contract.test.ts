import { silentLogger } from '../../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { RequestHold, sinkContract } from '../test-support/sink-contract.js';
import { solrOutputSchema } from './config.js';
import { FakeSolr } from './fake-solr.js';
import { SolrSink } from './solr-sink.js';

sinkContract({
  name: 'solr',
  retries: 'in_write',
  unavailableReason: 'sink_unavailable',
  refusesRecords: true,
  // The event id is Solr's uniqueKey: a replay overwrites, and the overwrite is a 2xx like any write.
  dedupesReplays: true,
  replaysCountAsSent: true,
  atStop: 'aborts',
  async create() {
    const server = await FakeSolr.start();
    const hold = new RequestHold();
    let unavailable = 0;
    server.respond = async (request) => {
      // The start-up probe (an empty update) is not a write.
      if (!request.path.endsWith('/update') || request.body === '[]') return undefined;
      await hold.pass();
      if (unavailable === 0) return undefined;
      unavailable--;
      return FakeSolr.error(503, 'Service Unavailable');
    };
    const { families, metrics } = testComponentMetrics('sink');
    const sink = new SolrSink('solr', solrOutputSchema.parse({ type: 'solr', endpoints: [server.url] }), metrics, silentLogger(), {
      sleep: () => Promise.resolve(),
      random: () => 1,
    });
    await sink.start();
    return {
      sink,
      families,
      held: () => Promise.resolve([...server.store().keys()]),
      unavailableFor: (attempts) => {
        unavailable = attempts;
      },
      refuse: (id) => server.refusedIds.add(id),
      hold: () => hold.arm(),
      close: () => server.close(),
    };
  },
});
