import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../shared/config/load.js';
import { silentLogger } from '../shared/telemetry/logger.js';
import { Agent } from './agent.js';
import { agentConfigSchema } from './config.js';

function agentWithDataDir(dataDir: string, logDir: string): Agent {
  const config = validateConfig(
    agentConfigSchema,
    {
      agent: { id: 'test-agent', data_dir: dataDir },
      // Never contacted: the data directory is checked before anything connects.
      kafka: { brokers: ['127.0.0.1:1'] },
      sources: { app: { type: 'file', include: [join(logDir, '*.log')] } },
      telemetry: { port: 0 },
    },
    'test agent config',
  );
  return new Agent(config, silentLogger());
}

describe('Agent start-up', () => {
  it('13.25: an unwritable agent.data_dir fails start-up with a message naming agent.data_dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-agent-'));
    // A regular file where the directory should be: unwritable for every user, root included.
    const blocked = join(dir, 'blocked');
    await writeFile(blocked, '');
    const agent = agentWithDataDir(join(blocked, 'state'), dir);
    await expect(agent.start()).rejects.toThrow(/^agent\.data_dir .*blocked\/state is not writable: .*ENOTDIR/);
    expect(agent.telemetryUrl).toBeUndefined();
  });
});
