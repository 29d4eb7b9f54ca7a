import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../../shared/telemetry/test-metrics.js';
import { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import { sourceContract } from '../test-support/source-contract.js';
import { fileSourceSchema } from './config.js';
import { fingerprintOfPath } from './file-identity.js';
import { FileSource } from './file-source.js';

sourceContract({
  name: 'file',
  // A file can be read again: the checkpoint is the delivery promise.
  delivery: 'checkpointed',
  // A rejected hand-off ends the tailer as any failed read does; discovery resumes the file from its checkpoint.
  handOffErrorReason: 'io',
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-file-contract-'));
    const path = join(dir, 'app.log');
    const checkpoints = CheckpointStore.forDataDir(join(dir, 'data'));
    const { families, metrics } = testComponentMetrics('source');
    let line = 0;
    const config = fileSourceSchema.parse({ type: 'file', include: [join(dir, '*.log')], poll_interval: '50ms', rotate_wait: '300ms' });
    return {
      families,
      async start(consumer) {
        const source = new FileSource('files', config, { agentId: 'agent', host: 'host', consumer, checkpoints, metrics, logger: silentLogger() });
        await source.start();
        return {
          source,
          produce: () => appendFile(path, Array.from({ length: 3 }, () => `line ${line++}\n`).join('')),
        };
      },
      async position() {
        const id = await fingerprintOfPath(path);
        const end = (await stat(path)).size;
        return { checkpoint: id === undefined ? 0 : (checkpoints.get(id)?.offset ?? 0), end };
      },
      close: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
