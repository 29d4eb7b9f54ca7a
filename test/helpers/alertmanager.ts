/**
 * A real Prometheus Alertmanager from Debian's `prometheus-alertmanager`
 * package, started per test on free ports with clustering off, routing every
 * alert to a webhook receiver this helper runs, so tests see both sides:
 * Alertmanager's API (what it holds) and its outgoing notifications.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startServer } from './processes.js';
import { listenLocal } from '../../shared/test-support/ports.js';

/** One alert as `GET /api/v2/alerts` returns it (Alertmanager's `gettableAlert`). */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  fingerprint: string;
  generatorURL?: string;
  receivers: Array<{ name: string }>;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] };
}

/** The body of Alertmanager's webhook notifications (version 4). */
export interface AlertmanagerWebhook {
  version: string;
  status: 'firing' | 'resolved';
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
}

export interface RunningAlertmanager {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Alerts Alertmanager holds and has not resolved (resolved ones are not listed by the v2 API at all). */
  alerts(filter?: readonly string[]): Promise<GettableAlert[]>;
  /** Alertmanager's own /metrics text. */
  metrics(): Promise<string>;
  /** Notifications its webhook receiver got, oldest first. */
  readonly notifications: readonly AlertmanagerWebhook[];
  stop(): Promise<void>;
}

/** Sub-second grouping so a test sees a notification soon after an alert changes (production uses 30s/5m). */
const TEST_ROUTE = { group_wait: '100ms', group_interval: '1s', repeat_interval: '1h', group_by: ['alertname'] };

async function startWebhookReceiver(notifications: AlertmanagerWebhook[]): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      notifications.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertmanagerWebhook);
      response.writeHead(200).end();
    });
  });
  await listenLocal(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alertmanager-webhook`, server };
}

export async function startAlertmanager(): Promise<RunningAlertmanager> {
  const notifications: AlertmanagerWebhook[] = [];
  const receiver = await startWebhookReceiver(notifications);
  const config = {
    route: { receiver: 'test-webhook', ...TEST_ROUTE },
    receivers: [{ name: 'test-webhook', webhook_configs: [{ url: receiver.url, send_resolved: true }] }],
  };
  let server;
  try {
    server = await startServer(
      'prometheus-alertmanager',
      (port, dir) => [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // Empty disables HA gossip: no second port, and no cluster settle wait before notifications.
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      '/-/ready',
      (dir) => writeFile(join(dir, 'alertmanager.yml'), stringify(config)),
    );
  } catch (error) {
    receiver.server.close();
    throw error;
  }
  const { url } = server;
  return {
    url,
    notifications,
    alerts: async (filter = []) => {
      const params = new URLSearchParams({ active: 'true', silenced: 'true', inhibited: 'true', unprocessed: 'true' });
      for (const matcher of filter) params.append('filter', matcher);
      const response = await fetch(`${url}/api/v2/alerts?${params.toString()}`);
      if (!response.ok) throw new Error(`GET /api/v2/alerts: HTTP ${response.status}: ${await response.text()}`);
      return (await response.json()) as GettableAlert[];
    },
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    stop: async () => {
      await server.stop();
      receiver.server.closeAllConnections();
      await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    },
  };
}
