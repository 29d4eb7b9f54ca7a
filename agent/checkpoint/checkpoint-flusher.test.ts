import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { sampleValue, testComponentMetrics } from '../../shared/telemetry/test-metrics.js';
import { CheckpointFlusher } from './checkpoint-flusher.js';
import { CheckpointStore } from './checkpoint-store.js';

describe('CheckpointFlusher', () => {
  it('13.3: counts each failed write, keeps the checkpoint age growing, backs off, and writes once the disk is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-flusher-'));
    const dataDir = join(dir, 'data');
    await writeFile(dataDir, 'not a directory');
    const store = CheckpointStore.forDataDir(dataDir);
    store.track('1:42', '/var/log/app.log', 0).register(1200, 1)({ status: 'delivered' });
    const { families, metrics } = testComponentMetrics('source');
    let clock = Date.now();
    const flusher = new CheckpointFlusher(store, {
      intervalMs: 1_000,
      expireAfterMs: 24 * 3_600_000,
      isActive: () => true,
      metrics,
      logger: silentLogger(),
      // A constant delay, so the test knows exactly when the next attempt is due.
      backoff: { initialMs: 5_000, maxMs: 5_000 },
      now: () => clock,
    });
    const ageSeconds = () => sampleValue(families, 'tributary_checkpoint_age_seconds');
    const checkpointErrors = () => sampleValue(families, 'tributary_component_errors_total', { reason: 'checkpoint' });

    for (let attempt = 1; attempt <= 4; attempt++) {
      await flusher.tick();
      expect(flusher.failures).toBe(attempt);
      expect(await checkpointErrors()).toBe(attempt);
      clock += 5_000; // past any backoff delay: the next tick attempts again
    }
    const ageWhileFailing = await ageSeconds();
    expect(ageWhileFailing).toBeGreaterThanOrEqual(0);

    // Within the backoff delay a tick does not attempt, but the age gauge still moves.
    await flusher.tick();
    clock += 1;
    await flusher.tick();
    expect(flusher.failures).toBe(5);
    expect(await checkpointErrors()).toBe(5);

    await rm(dataDir);
    clock += 5_000;
    await flusher.tick();
    expect(flusher.failures).toBe(0);
    expect(await checkpointErrors()).toBe(5);
    expect(await ageSeconds()).toBe(0);
    const reloaded = CheckpointStore.forDataDir(dataDir);
    await reloaded.load();
    expect(reloaded.get('1:42')?.offset).toBe(1200);
    await flusher.stop();
  });
});
