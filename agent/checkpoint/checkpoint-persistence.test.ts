import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { CheckpointPersistence } from './checkpoint-persistence.js';
import { CheckpointStore } from './checkpoint-store.js';

describe('CheckpointPersistence', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-persistence-'));
    dirs.push(dir);
    return join(dir, 'data');
  }

  const writing = () => ({ isActive: () => true, metrics: testComponentMetrics('source').metrics, logger: silentLogger() });

  it('loads what the previous run wrote, and stop writes what was acknowledged since, even between intervals', async () => {
    const dir = await dataDir();
    const first = new CheckpointPersistence(dir, { intervalMs: 3_600_000, expireAfterMs: 3_600_000 });
    await first.load();
    first.start(writing());
    first.store.track('1:42', '/a.log', 0).register(1200, 3)({ status: 'delivered' });
    await first.stop();

    const second = new CheckpointPersistence(dir, { intervalMs: 3_600_000, expireAfterMs: 3_600_000 });
    await second.load();
    expect(second.store.get('1:42')).toMatchObject({ path: '/a.log', offset: 1200 });
    // Stopping without having started (the start failed before the sources ran) still writes.
    second.store.track('1:42', '/a.log', 1200).register(1500, 1)({ status: 'delivered' });
    await second.stop();
    const reloaded = CheckpointStore.forDataDir(dir);
    await reloaded.load();
    expect(reloaded.get('1:42')?.offset).toBe(1500);
  });
});
