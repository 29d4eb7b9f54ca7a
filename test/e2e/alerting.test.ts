import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../shared/record/alert-record.js';
import { startAlertmanager, type RunningAlertmanager } from '../helpers/alertmanager.js';
import { brokers, testKafka, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';
import { alertRecordErrors } from '../helpers/schemas.js';
import { listenLocal } from '../../shared/test-support/ports.js';

/**
 * Alerting through real processes: agent → Kafka → collector(s) evaluating
 * rules → the alerts topic, a real Alertmanager (Debian's) and a webhook.
 */

/** Collects every record of an alerts topic from the beginning, for the whole test. */
class AlertTail {
  readonly records: AlertRecord[] = [];
  private consumer: Consumer | undefined;

  constructor(private readonly topic: string) {}

  async start(): Promise<void> {
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: 3 }], waitForLeaders: true }).catch(() => undefined);
    await admin.disconnect();
    this.consumer = testKafka().consumer({ groupId: uniqueName('alert-tail') });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        this.records.push(JSON.parse(message.value?.toString() ?? '') as AlertRecord);
        await Promise.resolve();
      },
    });
  }

  of(alertname: string, labels: Record<string, string> = {}): AlertRecord[] {
    return this.records
      .filter((record) => record.labels.alertname === alertname && Object.entries(labels).every(([name, value]) => record.labels[name] === value))
      .sort((a, b) => a.changed_at.localeCompare(b.changed_at));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** A scrape target whose exposition the test controls. */
async function startTarget(body: () => string): Promise<{ address: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body());
  });
  await listenLocal(server);
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function startWebhook(received: Array<{ alerts: AlertRecord[] }>): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: AlertRecord[] });
      response.writeHead(200).end();
    });
  });
  await listenLocal(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, server };
}

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('alerting end to end (real broker, real Alertmanager, real processes)', () => {
  const running: RunningProcess[] = [];
  const servers: Server[] = [];
  const tails: AlertTail[] = [];
  let alertmanager: RunningAlertmanager | undefined;

  afterAll(async () => {
    await Promise.all(running.map((process_) => process_.stop('SIGKILL')));
    await Promise.all(tails.map((tail) => tail.stop()));
    await Promise.all(servers.map(closeServer));
    await alertmanager?.stop();
  });

  it('fires a metric threshold rule once after `for`, repeats it, resolves it, and fires an absent rule when a target disappears', async () => {
    alertmanager = await startAlertmanager();
    const hookCalls: Array<{ alerts: AlertRecord[] }> = [];
    const hook = await startWebhook(hookCalls);
    servers.push(hook.server);
    let temperature = 20;
    const hot = await startTarget(() => `# TYPE app_temperature gauge\napp_temperature{room="a"} ${temperature}\n`);
    const other = await startTarget(() => '# TYPE app_temperature gauge\napp_temperature{room="b"} 21\n');
    servers.push(hot.server);
    const dir = await mkdtemp(join(tmpdir(), 'tributary-alerting-'));
    const rawTopic = uniqueName('alert-raw-metrics');
    const alertsTopic = uniqueName('alerts');
    const [agentPort, collectorPort] = [await freePort(), await freePort()];
    const rules = await writeYaml(join(dir, 'rules.yaml'), {
      groups: [
        {
          name: 'temperature',
          interval: '1s',
          rules: [
            {
              alert: 'HighTemp',
              metric: 'app_temperature{job="rooms"}',
              aggregate: 'max',
              window: '2s',
              group_by: ['instance'],
              condition: '> 50',
              for: '10s',
              severity: 'critical',
              labels: { team: 'facilities' },
              annotations: { summary: '{{ $value }} degrees at {{ $labels.instance }}' },
            },
            { alert: 'TargetGone', metric: 'app_temperature', group_by: ['instance'], absent: true, window: '3s' },
          ],
        },
      ],
    });
    const agent = startCli(
      'agent',
      await writeYaml(join(dir, 'agent.yaml'), {
        agent: { id: 'alerting-agent', data_dir: join(dir, 'agent-data') },
        kafka: { brokers: brokers() },
        sources: {
          rooms: {
            type: 'prometheus_scrape',
            scrape_configs: [
              { job_name: 'rooms', scrape_interval: '1s', scrape_timeout: '900ms', static_configs: [{ targets: [hot.address, other.address] }] },
            ],
          },
        },
        metrics_output: { topic: rawTopic, partitions: 3 },
        telemetry: { port: agentPort },
      }),
    );
    running.push(agent);
    const collector = startCli(
      'collector',
      await writeYaml(join(dir, 'collector.yaml'), {
        collector: { group_id: uniqueName('alerting') },
        kafka: { brokers: brokers() },
        input: { topics: [rawTopic], session_timeout: '6s', heartbeat_interval: '1s' },
        outputs: { archive: { type: 'file', path: join(dir, 'records.ndjson') } },
        dead_letter: { topic: uniqueName('alert-dlq') },
        alerting: {
          rules_files: [rules],
          evaluation_delay: '3s',
          repeat_interval: '3s',
          alerts_topic: { topic: alertsTopic },
          notifiers: {
            alertmanager: { type: 'alertmanager', urls: [alertmanager.url] },
            hook: { type: 'webhook', url: hook.url },
          },
        },
        telemetry: { port: collectorPort },
      }),
    );
    running.push(collector);
    await waitUntilReady(collector, `http://127.0.0.1:${collectorPort}`);
    await waitUntilReady(agent, `http://127.0.0.1:${agentPort}`);
    const tail = new AlertTail(alertsTopic);
    tails.push(tail);
    await tail.start();
    // Evaluations have begun once the collector counts some for HighTemp.
    await waitFor(
      'HighTemp evaluated',
      async () =>
        (await (await fetch(`http://127.0.0.1:${collectorPort}/metrics`)).text()).match(
          /tributary_alert_rule_evaluations_total\{rule="temperature\/HighTemp"[^}]*\} [1-9]/,
        )
          ? true
          : undefined,
      60_000,
      500,
    );
    temperature = 80;
    const hotLabels = { instance: hot.address };
    const firing = await waitFor('HighTemp firing', () => tail.of('HighTemp', hotLabels).find((record) => record.state === 'firing'), 60_000, 250);
    expect(tail.of('HighTemp', hotLabels).map((record) => record.state)).toEqual(['pending', 'firing']);
    // `for: 10s` on a 1 s grid: the first evaluation 10 s after the condition began to hold fires it.
    expect(Date.parse(firing.changed_at) - Date.parse(firing.active_at)).toBe(10_000);
    expect(firing).toMatchObject({
      rule: 'temperature/HighTemp',
      previous_state: 'pending',
      value: 80,
      labels: { alertname: 'HighTemp', severity: 'critical', team: 'facilities', instance: hot.address },
      annotations: { summary: `80 degrees at ${hot.address}` },
    });
    expect(alertRecordErrors(firing)).toBeUndefined();
    const active = await waitFor('Alertmanager holds HighTemp', async () => {
      const alerts = await (alertmanager as RunningAlertmanager).alerts(['alertname="HighTemp"']);
      return alerts.length > 0 ? alerts : undefined;
    });
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({
      labels: { alertname: 'HighTemp', severity: 'critical', team: 'facilities', instance: hot.address },
      annotations: { summary: `80 degrees at ${hot.address}` },
      startsAt: firing.fired_at,
      status: { state: 'active' },
    });
    // Repeats while firing go to the notifiers (every repeat_interval), never to the topic of state changes.
    const firingDeliveries = () =>
      hookCalls.flatMap((call) => call.alerts).filter((alert) => alert.labels.alertname === 'HighTemp' && alert.state === 'firing').length;
    await waitFor('HighTemp repeated to the webhook', () => (firingDeliveries() >= 3 ? true : undefined), 30_000, 250);
    expect(tail.of('HighTemp', hotLabels).filter((record) => record.state === 'firing')).toHaveLength(1);

    temperature = 20;
    const resolved = await waitFor('HighTemp resolved', () => tail.of('HighTemp', hotLabels).find((record) => record.state === 'resolved'), 60_000, 250);
    expect(resolved).toMatchObject({ previous_state: 'firing', fired_at: firing.fired_at, fingerprint: firing.fingerprint });
    await waitFor('Alertmanager no longer holds HighTemp', async () =>
      (await (alertmanager as RunningAlertmanager).alerts(['alertname="HighTemp"'])).length === 0 ? true : undefined,
    );
    await waitFor('Alertmanager sent the resolution', () =>
      alertmanager?.notifications.some((notification) =>
        notification.alerts.some((alert) => alert.labels.alertname === 'HighTemp' && alert.status === 'resolved'),
      )
        ? true
        : undefined,
    );
    expect(
      alertmanager.notifications.some((notification) =>
        notification.alerts.some((alert) => alert.labels.alertname === 'HighTemp' && alert.status === 'firing'),
      ),
    ).toBe(true);

    // The second target goes away: its series stop (only `up` 0 remains), the first keeps reporting.
    await closeServer(other.server);
    const gone = await waitFor('TargetGone firing', () => tail.of('TargetGone').find((record) => record.state === 'firing'), 60_000, 250);
    expect(gone.labels).toEqual({ alertname: 'TargetGone', severity: 'warning', instance: other.address });
    expect(gone.value).toBeNull();
    await waitFor('Alertmanager holds TargetGone', async () =>
      (await (alertmanager as RunningAlertmanager).alerts(['alertname="TargetGone"'])).length === 1 ? true : undefined,
    );
    // No flaps: one pending, one firing, one resolved for HighTemp; nothing for the target that kept reporting.
    expect(tail.of('HighTemp', hotLabels).map((record) => record.state)).toEqual(['pending', 'firing', 'resolved']);
    expect(tail.of('TargetGone', hotLabels)).toEqual([]);
    for (const record of tail.records) expect(alertRecordErrors(record)).toBeUndefined();
  }, 240_000);

  it('gives the same log alerts with one collector and with three, across a SIGKILL and a rebalance', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-alerting-logs-'));
    await mkdir(join(dir, 'logs'));
    const rawTopic = uniqueName('alert-raw-logs');
    const rules = await writeYaml(join(dir, 'rules.yaml'), {
      groups: [
        {
          name: 'errors',
          interval: '1s',
          rules: [
            {
              alert: 'ServiceErrors',
              logs: { severity_at_least: 'ERROR' },
              group_by: ['service'],
              window: '5s',
              condition: '> 60',
              for: '2s',
              annotations: { summary: '{{ $labels.service }}: {{ $value }} errors in 5s' },
            },
            { alert: 'AllErrors', logs: { severity_at_least: 'ERROR' }, window: '5s', condition: '> 200' },
          ],
        },
      ],
    });
    const agentPort = await freePort();
    const agent = startCli(
      'agent',
      await writeYaml(join(dir, 'agent.yaml'), {
        agent: { id: 'alerting-logs', data_dir: join(dir, 'agent-data') },
        kafka: { brokers: brokers() },
        sources: { app: { type: 'file', include: [join(dir, 'logs', '*.log')] } },
        framer: { linger: '50ms' },
        // Twelve files over twelve partitions: every service's lines are spread over many partitions.
        output: { topic: rawTopic, partitions: 12 },
        telemetry: { port: agentPort },
      }),
    );
    running.push(agent);
    const group = async (name: string, members: number) => {
      const alertsTopic = uniqueName(`alerts-${name}`);
      const groupId = uniqueName(`alerting-${name}`);
      const start = async (index: number) => {
        const port = await freePort();
        const config = await writeYaml(join(dir, `${name}-${index}.yaml`), {
          collector: { group_id: groupId, instance_name: `${name}-${index}` },
          kafka: { brokers: brokers() },
          input: { topics: [rawTopic], session_timeout: '6s', heartbeat_interval: '1s' },
          parsers: [{ parser: { type: 'json' } }],
          outputs: { archive: { type: 'file', path: join(dir, `${name}-${index}.ndjson`) } },
          dead_letter: { topic: uniqueName('alert-dlq') },
          // Longer than a failover (session timeout, rebalance, state restore), so a crash changes no window.
          alerting: { rules_files: [rules], evaluation_delay: '20s', alerts_topic: { topic: alertsTopic } },
          telemetry: { port },
        });
        const process_ = startCli('collector', config);
        running.push(process_);
        await waitUntilReady(process_, `http://127.0.0.1:${port}`);
        return process_;
      };
      const processes = [];
      for (let index = 0; index < members; index++) processes.push(await start(index));
      const tail = new AlertTail(alertsTopic);
      tails.push(tail);
      await tail.start();
      return { processes, tail, restart: start };
    };
    const single = await group('one', 1);
    const trio = await group('three', 3);
    await waitUntilReady(agent, `http://127.0.0.1:${agentPort}`);

    // 30 s of event time in 100 ms ticks, written as it happens; line content depends on the tick only, so both groups
    // see the same records. svc-0 bursts from 5 s to 15 s, svc-1 from 12 s to 22 s (30 errors/s each, 150 per window);
    // a trickle of background errors everywhere.
    const files = 12;
    const base = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const errorLines: Array<{ timeMs: number; service: string }> = [];
    for (let tick = 0; tick < 300; tick++) {
      const time = new Date(base + tick * 100).toISOString();
      await Promise.all(
        Array.from({ length: files }, (_, file) => {
          const service = (tick + file) % 4;
          const burst = (service === 0 && tick >= 50 && tick < 150) || (service === 1 && tick >= 120 && tick < 220);
          const level = burst || (tick * files + file) % 37 === 0 ? 'error' : 'info';
          if (level === 'error') errorLines.push({ timeMs: base + tick * 100, service: `svc-${service}` });
          const line = JSON.stringify({ time, level, service: `svc-${service}`, msg: `tick ${tick} file ${file}` });
          return appendFile(join(dir, 'logs', `app-${file}.log`), `${line}\n`);
        }),
      );
      if (tick === 100) {
        // One of the three dies mid-stream; its partitions (raw and alerting) move to the other two.
        await trio.processes[1]?.stop('SIGKILL');
      }
      if (tick === 200) await trio.restart(1);
      await sleep(Math.max(0, base + (tick + 1) * 100 - Date.now()));
    }
    expect(errorLines.length).toBeGreaterThan(600);

    const settled = (tail: AlertTail) =>
      ['svc-0', 'svc-1'].every((service) => tail.of('ServiceErrors', { service }).some((record) => record.state === 'resolved')) &&
      tail.of('AllErrors').some((record) => record.state === 'resolved');
    await waitFor('both groups resolved every alert', () => (settled(single.tail) && settled(trio.tail) ? true : undefined), 120_000, 500);
    // Evaluation of the last second of data, 20 s behind the clock, plus a margin for anything that would still come.
    await sleep(Math.max(0, base + 30_000 + 20_000 + 3_000 - Date.now()));

    // A crash between publishing a change and checkpointing republishes it with the same id: consumers dedupe by id.
    const timeline = (tail: AlertTail) => {
      const byId = new Map<string, AlertRecord>();
      for (const record of tail.records) {
        const { generator: _generator, ...seen } = byId.get(record.id) ?? record;
        const { generator: _other, ...now } = record;
        expect(now).toEqual(seen);
        byId.set(record.id, record);
      }
      return [...byId.values()]
        .map(({ generator: _generator, ...record }) => record)
        .sort((a, b) => a.changed_at.localeCompare(b.changed_at) || a.fingerprint.localeCompare(b.fingerprint));
    };
    const expected = timeline(single.tail);
    expect(timeline(trio.tail)).toEqual(expected);
    // And they are the alerts the input calls for: each burst pending, firing after 2 s, resolved; the overlap of the
    // two bursts (12-15 s) fires the cross-service rule.
    const states = (alertname: string, labels: Record<string, string> = {}) => single.tail.of(alertname, labels).map((record) => record.state);
    expect([...new Set(states('ServiceErrors', { service: 'svc-0' }))]).toEqual(['pending', 'firing', 'resolved']);
    expect([...new Set(states('ServiceErrors', { service: 'svc-1' }))]).toEqual(['pending', 'firing', 'resolved']);
    expect(states('ServiceErrors', { service: 'svc-2' })).toEqual([]);
    expect(states('AllErrors')).toContain('firing');
    // Each pending or firing value is the number of error lines written in the 5 s before the evaluation.
    const errorsBefore = (atMs: number, service?: string) =>
      errorLines.filter((line) => line.timeMs >= atMs - 5000 && line.timeMs < atMs && (service === undefined || line.service === service)).length;
    for (const record of expected.filter((alert) => alert.state !== 'resolved')) {
      expect(record.value).toBe(errorsBefore(Date.parse(record.changed_at), record.labels.service));
    }
    const firing = expected.find((record) => record.labels.service === 'svc-0' && record.state === 'firing');
    expect(firing?.annotations).toEqual({ summary: `svc-0: ${firing?.value} errors in 5s` });
  }, 300_000);
});
