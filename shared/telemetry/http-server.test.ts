import { describe, expect, it } from 'vitest';
import { ComponentHealth } from './component-health.js';
import { startTelemetryServer } from './http-server.js';
import { PipelineMetrics } from './metrics.js';

describe('telemetry server health endpoints', () => {
  it('13.2: a failed component fails /readyz, keeps /healthz live, and both name it', async () => {
    const health = new ComponentHealth();
    const server = await startTelemetryServer({ listen_address: '127.0.0.1', port: 0 }, new PipelineMetrics('agent').registry, {
      live: () => true,
      ready: () => health.healthy,
      problems: () => health.describe(),
    });
    try {
      expect(await (await fetch(`${server.url}/readyz`)).text()).toBe('ok\n');
      health.fail('source.scrape', new RangeError('Invalid time value'), 2);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toMatch(/^not ready\nfailed: source\.scrape since \S+ \(restarts: 2\): Invalid time value\n$/);
      const live = await fetch(`${server.url}/healthz`);
      expect(live.status).toBe(200);
      expect(await live.text()).toMatch(/^ok\nfailed: source\.scrape /);
      health.recover('source.scrape');
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
