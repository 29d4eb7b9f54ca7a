import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../shared/paths.js';
import { waitFor } from '../helpers/kafka.js';
import { freePort, metricValue, writeYaml } from '../helpers/processes.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `npm run agent` must behave like the process it starts: a supervisor's SIGTERM reaches the agent, which drains and exits. */
describe('npm scripts (the compiled CLI)', () => {
  it('13.26: SIGTERM to `npm run agent` stops the agent, which drains and exits 0 (and serves the event-loop delay)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-npm-run-'));
    const port = await freePort();
    const config = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'npm-run-agent', data_dir: join(dir, 'data'), shutdown_timeout: '5s' },
      // Host metrics only, spooled to disk: the agent is ready without a broker, which this test does not need.
      kafka: { brokers: ['127.0.0.1:1'], connection_timeout: '1s' },
      sources: { host: { type: 'host_metrics', interval: '10s' } },
      telemetry: { port },
    });
    const npm = spawn('npm', ['run', '--silent', 'agent', '--', '--config', config], { cwd: packageRoot(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const npmExited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    let agentPid: number | undefined;
    try {
      // Serving /metrics means started; the pid is the agent's own, from its log lines (not npm's, nor a shell's).
      agentPid = await waitFor(
        'the agent to serve /metrics',
        async () => metricValue(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'tributary_process_start_time_seconds') && pidFromLogs(stderr),
        120_000,
        200,
      );
      expect(agentPid).not.toBe(npm.pid);
      // The event-loop budget is visible on the running process.
      const exposition = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const quantile of ['0.5', '0.99', '1'])
        expect(metricValue(exposition, 'tributary_event_loop_delay_seconds', { quantile })).toBeGreaterThanOrEqual(0);
      npm.kill('SIGTERM');
      expect(await npmExited).toBe(0);
      const pid = agentPid;
      await waitFor('the agent process to be gone', () => !isRunning(pid), 20_000, 100);
      expect(stderr).toMatch(/"msg":"agent stopped"/);
    } catch (error) {
      throw new Error(`${String(error)}\nstderr:\n${stderr.slice(-3000)}`);
    } finally {
      if (agentPid !== undefined && isRunning(agentPid)) process.kill(agentPid, 'SIGKILL');
      if (npm.exitCode === null) npm.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

/** The pid the agent's JSON log lines carry. */
function pidFromLogs(stderr: string): number | undefined {
  const match = /"pid":(\d+),"name":"tributary-agent"/.exec(stderr);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
