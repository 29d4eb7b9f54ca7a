import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Registry } from 'prom-client';
import type { AlertRecord } from '../../../shared/record/alert-record.js';
import { closeLocal, listenLocal } from '../../../shared/test-support/ports.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { AlertingMetrics } from '../alerting-metrics.js';
import type { NotifierDependencies } from './queued-notifier.js';

/**
 * Test support for the notifiers (unit and integration tests): alert records
 * in each state, a scriptable local HTTP receiver, and metric readings.
 * Nothing in the product imports it.
 */

const FINGERPRINT = '9f86d081884c7d65';

export function firingAlert(overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    schema: 'tributary.alert.v1',
    id: 'a'.repeat(32),
    fingerprint: FINGERPRINT,
    rule: 'api/HighErrorRate',
    state: 'firing',
    previous_state: 'pending',
    labels: { alertname: 'HighErrorRate', severity: 'critical', 'service.name': 'checkout' },
    annotations: { summary: 'checkout: 12 errors in 1m', description: 'error count 12 > 10' },
    value: 12,
    active_at: '2026-11-23T11:58:00.000Z',
    fired_at: '2026-11-23T12:00:00.000Z',
    changed_at: '2026-11-23T12:00:00.000Z',
    generator: 'collector-1',
    ...overrides,
  };
}

/** The resolution of `firing` (same fingerprint, labels and annotations). */
export function resolvedAlert(firing: AlertRecord = firingAlert(), resolvedAt = '2026-11-23T12:05:00.000Z'): AlertRecord {
  return { ...firing, id: 'b'.repeat(32), state: 'resolved', previous_state: 'firing', value: 3, resolved_at: resolvedAt, changed_at: resolvedAt };
}

export function pendingAlert(overrides: Partial<AlertRecord> = {}): AlertRecord {
  const { fired_at: _fired, ...base } = firingAlert();
  return { ...base, id: 'c'.repeat(32), state: 'pending', previous_state: 'inactive', changed_at: base.active_at, ...overrides };
}

/** A pending alert whose condition stopped holding before `for` elapsed: it never fired. */
export function resolvedFromPendingAlert(): AlertRecord {
  return {
    ...pendingAlert(),
    id: 'd'.repeat(32),
    state: 'resolved',
    previous_state: 'pending',
    resolved_at: '2026-11-23T11:59:00.000Z',
    changed_at: '2026-11-23T11:59:00.000Z',
  };
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface ScriptedResponse {
  /** 0: never answer (the client's timeout must end the request). */
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A local HTTP server recording every request; it answers with the scripted
 * responses in order, then with `fallback` (200 by default).
 */
export class FakeReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly script: ScriptedResponse[] = [];
  private server: Server | undefined;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  fallback: ScriptedResponse = { status: 200, body: '' };
  url = '';

  respond(...responses: ScriptedResponse[]): this {
    this.script.push(...responses);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        const answer = this.script.shift() ?? this.fallback;
        if (answer.status !== 0) {
          response.writeHead(answer.status, answer.headers ?? {});
          response.end(answer.body ?? '');
        }
        const ready = this.waiters.filter((waiter) => this.requests.length >= waiter.count);
        this.waiters = this.waiters.filter((waiter) => this.requests.length < waiter.count);
        for (const waiter of ready) waiter.resolve();
      });
    });
    this.url = `http://127.0.0.1:${await listenLocal(this.server)}`;
    return this;
  }

  /** Resolves once `count` requests arrived in total. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  bodies<T>(): T[] {
    return this.requests.map((request) => JSON.parse(request.body) as T);
  }

  async stop(): Promise<void> {
    await closeLocal(this.server);
  }
}

/** Notifier dependencies with a fresh registry (counters start at zero), no logs, and a pinned clock and jitter. */
export function testDependencies(id: string, now = Date.parse('2026-11-23T12:10:00.000Z')): NotifierDependencies & { alerting: AlertingMetrics } {
  const alerting = new AlertingMetrics(new Registry());
  return { alerting, metrics: alerting.notifier(id), logger: silentLogger(), now: () => now, random: () => 1 };
}

/** A counter or gauge sample (sum over series whose labels include `labels`); a histogram's `_count`. */
export async function metricSample(alerting: AlertingMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = alerting.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric family ${name}`);
  const { values } = await metric.get();
  let total = 0;
  for (const sample of values) {
    const sampleName = (sample as { metricName?: string }).metricName;
    if (sampleName !== undefined && sampleName !== name && sampleName !== `${name}_count`) continue;
    if (Object.entries(labels).every(([key, value]) => String(sample.labels[key]) === value)) total += sample.value;
  }
  return total;
}
