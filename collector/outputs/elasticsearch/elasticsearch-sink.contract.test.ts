import { silentLogger } from '../../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { RequestHold, sinkContract } from '../test-support/sink-contract.js';
import { elasticsearchOutputSchema } from './config.js';
import { ElasticsearchSink } from './elasticsearch-sink.js';
import { FakeElasticsearch, parseBulkBody } from './fake-elasticsearch.js';

sinkContract({
  name: 'elasticsearch',
  retries: 'in_write',
  unavailableReason: 'sink_unavailable',
  refusesRecords: true,
  // `create` with the event id as `_id`: a replay answers 409, which counts as written (README "Metrics").
  dedupesReplays: true,
  replaysCountAsSent: true,
  atStop: 'aborts',
  async create() {
    const server = await FakeElasticsearch.start();
    const hold = new RequestHold();
    const refused = new Set<string>();
    let unavailable = 0;
    server.respond = async (request, fake) => {
      if (request.path !== '/_bulk') return undefined;
      await hold.pass();
      if (unavailable > 0) {
        unavailable--;
        return { status: 503, body: { error: { type: 'cluster_block_exception', reason: 'no master' }, status: 503 } };
      }
      const reply = fake.bulkReply(parseBulkBody(request.body), (action) =>
        refused.has(action.id) ? { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [body]' } } : undefined,
      );
      return { body: reply };
    };
    const { families, metrics } = testComponentMetrics('sink');
    const config = elasticsearchOutputSchema.parse({ type: 'elasticsearch', endpoints: [server.url], install_templates: false });
    const sink = new ElasticsearchSink('es', config, metrics, silentLogger(), { sleep: () => Promise.resolve(), random: () => 1 });
    await sink.start();
    return {
      sink,
      families,
      // The store is keyed `<index>/<_id>`.
      held: () => Promise.resolve([...server.store.keys()].map((key) => key.slice(key.indexOf('/') + 1))),
      unavailableFor: (attempts) => {
        unavailable = attempts;
      },
      refuse: (id) => refused.add(id),
      hold: () => hold.arm(),
      close: () => server.close(),
    };
  },
});
