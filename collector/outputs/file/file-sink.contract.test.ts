import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { RequestHold, sinkContract } from '../test-support/sink-contract.js';
import { fileOutputSchema } from './config.js';
import { FileSink, type FileSinkIo } from './file-sink.js';

sinkContract({
  name: 'file',
  // A failed write is cut back and rejected retriably; the pipeline writes the batch again.
  retries: 'caller',
  unavailableReason: 'io',
  refusesRecords: false,
  // A plain file cannot deduplicate: the README ("Duplicates only with the same id") and FileSink say a replay appends again.
  dedupesReplays: false,
  replaysCountAsSent: true,
  // A local write and fdatasync finish on their own; stop waits for them.
  atStop: 'completes',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'file-contract-'));
    const path = join(dir, 'out', 'records.ndjson');
    const hold = new RequestHold();
    let unavailable = 0;
    const io: FileSinkIo = {
      write: async (handle, data, offset, length) => {
        await hold.pass();
        if (unavailable > 0) {
          unavailable--;
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        }
        return (await handle.write(data, offset, length)).bytesWritten;
      },
      truncate: (handle, length) => handle.truncate(length),
    };
    const { families, metrics } = testComponentMetrics('sink');
    const sink = new FileSink('file', fileOutputSchema.parse({ type: 'file', path }), metrics, { io });
    await sink.start();
    return {
      sink,
      families,
      held: async () =>
        (await readFile(path, 'utf8'))
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => (JSON.parse(line) as { id: string }).id),
      unavailableFor: (attempts) => {
        unavailable = attempts;
      },
      refuse: () => {
        throw new Error('a file takes every record');
      },
      hold: () => hold.arm(),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
