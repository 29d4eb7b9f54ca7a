import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { RequestHold, sinkContract } from '../test-support/sink-contract.js';
import { hdfsOutputSchema } from './config.js';
import { FakeWebHdfs } from './fake-webhdfs.js';
import { fileExtension } from './encoder.js';
import { TEMP_DIR, parseTempName } from './file-names.js';
import { HdfsSink } from './hdfs-sink.js';

sinkContract({
  name: 'hdfs',
  retries: 'in_write',
  unavailableReason: 'sink_unavailable',
  refusesRecords: false,
  // Files are named by source positions: a replay is skipped, and what is skipped is not sent (README "Metrics").
  dedupesReplays: true,
  replaysCountAsSent: false,
  atStop: 'aborts',
  async create() {
    const fake = new FakeWebHdfs();
    await fake.start();
    const hold = new RequestHold();
    // Only data (a temp file's create or append) is held; markers and listings go on.
    fake.beforeAnswer = (request) =>
      request.datanode && (request.op === 'CREATE' || request.op === 'APPEND') && request.path.includes(`/${TEMP_DIR}/`) ? hold.pass() : undefined;
    const { families, metrics } = testComponentMetrics('sink');
    const config = hdfsOutputSchema.parse({
      type: 'hdfs',
      namenodes: [fake.url],
      path: '/data/{service.name}',
      auth: { user: 'alice' },
      retry: { initial_backoff: 1, max_backoff: 1 },
    });
    const sink = new HdfsSink('lake', config, metrics, silentLogger(), { sleep: () => Promise.resolve(), random: () => 1 });
    await sink.start();
    return {
      sink,
      families,
      /** Finished files whole; an in-progress file up to the committed length its name records (the rest is an append that never completed). */
      held: () => {
        const ids: string[] = [];
        // Markers (`_tributary/`) hold directory names, not records.
        for (const path of fake.paths('/data/').filter((entry) => !entry.startsWith('/data/_tributary/'))) {
          let data = fake.files.get(path) ?? Buffer.alloc(0);
          if (path.includes(`/${TEMP_DIR}/`)) {
            const name = parseTempName(basename(path), fileExtension('gzip'));
            if (name === undefined) continue;
            data = data.subarray(0, name.bytes);
          }
          if (data.length === 0) continue;
          for (const line of gunzipSync(data).toString('utf8').split('\n')) if (line !== '') ids.push((JSON.parse(line) as { id: string }).id);
        }
        return Promise.resolve(ids);
      },
      unavailableFor: (attempts) => {
        fake.unavailableFor = attempts;
      },
      refuse: () => {
        throw new Error('HDFS files take every record');
      },
      hold: () => hold.arm(),
      close: () => fake.stop(),
    };
  },
});
