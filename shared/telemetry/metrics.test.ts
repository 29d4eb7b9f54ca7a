import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetryServer, type TelemetryServer } from './http-server.js';
import { PipelineMetrics } from './metrics.js';

const servers: TelemetryServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** The value of one sample line of a Prometheus text exposition. */
function sample(exposition: string, selector: string): number {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(selector));
  if (line === undefined) throw new Error(`no sample ${selector} in:\n${exposition}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose: this is the blocking step the metric must reveal.
  }
}

describe('event-loop delay metric', () => {
  it('/metrics reports the delay a blocking step caused, and restarts the recording at every scrape', async () => {
    const metrics = new PipelineMetrics('agent');
    const server = await startTelemetryServer({ listen_address: '127.0.0.1', port: 0 }, metrics.registry, { live: () => true, ready: () => true });
    servers.push(server);
    // A running process: the monitor has ticked before the blocking step (its first sample starts the clock).
    await new Promise((resolve) => setTimeout(resolve, 50));
    blockEventLoop(500);
    // Let the monitor's next sample land (it runs every 10 ms once the loop is free).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = await (await fetch(`${server.url}/metrics`)).text();
    expect(first).toContain('# TYPE tributary_event_loop_delay_seconds gauge');
    const selector = (quantile: string) => `tributary_event_loop_delay_seconds{quantile="${quantile}",tributary_process="agent"}`;
    expect(sample(first, selector('1'))).toBeGreaterThanOrEqual(0.45);
    expect(sample(first, selector('0.5'))).toBeLessThanOrEqual(sample(first, selector('0.99')));

    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(second, selector('1'))).toBeLessThan(0.45);
  });
});
