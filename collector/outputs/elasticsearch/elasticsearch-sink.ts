import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { sleep as abortableSleep } from '../../../shared/pipeline/backoff.js';
import { retry, type Sleep } from '../../../shared/pipeline/retry.js';
import { retryAfterMs } from '../../../shared/http/retry-after.js';
import type { OutgoingRecord, RecordSink, RejectedRecord, WriteResult } from '../../../shared/pipeline/record-sink.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';
import { bulkBody, bulkItem, planRequests, type BulkItem } from './bulk-request.js';
import { describeError, parseBulkResponse, type ItemVerdict } from './bulk-response.js';
import type { ElasticsearchOutputConfig } from './config.js';
import { logDocument, metricDocument, type DataStreamFields } from './document.js';
import { renderIndexName, renderStreamPart } from './index-name.js';
import { HttpTransport, type Endpoint, type HttpRequest, type TextResponse, type SentRequest } from '../../../shared/http/http-transport.js';
import { Semaphore } from '../../../shared/pipeline/semaphore.js';
import { templateRequests } from './templates.js';
import { reportRejected, retryStartup, sendLogged, writeSignal } from '../sink-support.js';

/** Test seams: time and randomness. */
export interface ElasticsearchSinkOptions {
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
  /** How often the TLS files are checked for a rotation; tests shorten it. */
  tlsReloadIntervalMs?: number;
}

/** What became of one bulk request as a whole. */
type RequestOutcome =
  | { readonly kind: 'items'; readonly verdicts: readonly ItemVerdict[] }
  /** Send every item again: connection error, timeout, 429, 5xx, or (blocked) 401/403/404. */
  | { readonly kind: 'retry'; readonly reason: string; readonly blocked: boolean; readonly retryAfterMs?: number }
  /** 413: split it, or reject a single document the server will never take. */
  | { readonly kind: 'too_large'; readonly reason: string }
  /** Another 4xx: the request as such is refused; its documents go to the dead-letter topic. */
  | { readonly kind: 'reject'; readonly reason: string };

/** A round of bulk requests left records that must wait before they are sent again: what the retry logs and waits on. */
class PendingRecords extends Error {
  constructor(
    readonly records: number,
    readonly reason: string,
    /** Set when the server refuses requests as such (credentials, privileges, blocks): logged as an error. */
    readonly blocked: string | undefined,
    /** The longest Retry-After among the round's answers (already capped), if any asked. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(`${records} records not indexed: ${reason}`);
    this.name = 'PendingRecords';
  }
}

/**
 * Writes standard records to Elasticsearch or OpenSearch through `_bulk`.
 * `write` resolves only when every record is indexed (or already was: 409)
 * or reported in `rejected` (a document the server refuses for good); until
 * then it retries, whole requests and single items alike, with backoff, so a
 * down cluster holds the step, its offsets stay uncommitted, and the
 * collector stops consuming. Only the items that failed are sent again.
 */
export class ElasticsearchSink implements RecordSink {
  private readonly transport: HttpTransport;
  private readonly limiter: Semaphore;
  private readonly lifetime = new AbortController();
  private readonly bulkPath: string;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  /** Lowered when the server answers 413, so later writes do not hit its limit again. */
  private maxBytes: number;
  /** Readiness: false until start-up is done and while requests fail as a whole (down, or credentials refused). */
  private healthy = false;
  private stopped = false;

  constructor(
    readonly id: string,
    private readonly config: ElasticsearchOutputConfig,
    private readonly metrics: ComponentMetrics,
    private readonly logger: Logger,
    options: ElasticsearchSinkOptions = {},
  ) {
    this.transport = new HttpTransport(config, options.now, `outputs.${id}`, { logger, intervalMs: options.tlsReloadIntervalMs });
    this.limiter = new Semaphore(config.max_concurrent_requests);
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    this.maxBytes = config.batch.max_bytes;
    // Only what the retry decision needs comes back: a few bytes per item instead of the whole item.
    const query = new URLSearchParams({ filter_path: 'errors,items.*.status,items.*.error' });
    if (config.pipeline !== undefined) query.set('pipeline', config.pipeline);
    this.bulkPath = `/_bulk?${query.toString().replace(/%2C/g, ',').replace(/%2A/g, '*')}`;
  }

  ready(): boolean {
    return this.healthy;
  }

  /**
   * Reads secrets and TLS files, then (retrying while the server is
   * unreachable, until stop) says hello, installs the templates and checks the
   * ingest pipeline, so the first document already lands in the right mappings.
   */
  async start(): Promise<void> {
    await this.transport.open();
    const signal = this.lifetime.signal;
    await retryStartup(() => this.prepare(signal), this.config.retry, signal, this.logger, 'Elasticsearch start-up checks failed; retrying');
    this.healthy = true;
    this.logger.info({ endpoints: this.transport.endpoints.map((endpoint) => endpoint.display), mode: this.config.mode }, 'Elasticsearch output started');
  }

  private async prepare(signal: AbortSignal): Promise<void> {
    const { response, endpoint } = await this.request({ method: 'GET', path: '/' }, signal);
    if (response.status === 401) throw this.blockedError(`GET ${endpoint.display}/`, response, this.credentialsHint());
    if (response.status >= 200 && response.status < 300) {
      const info = parseJson(response.body) as { version?: { number?: unknown; distribution?: unknown } } | undefined;
      this.logger.info(
        { endpoint: endpoint.display, distribution: info?.version?.distribution ?? 'elasticsearch', version: info?.version?.number },
        'connected to the search server',
      );
    } else if (response.status !== 403) {
      // 403 is a key allowed to index but not to read cluster info: fine. Anything else is a server not (yet) there.
      throw this.unavailableError(`GET ${endpoint.display}/`, response);
    }
    if (this.config.install_templates) {
      for (const template of templateRequests(this.id, this.config)) {
        const sent = await this.request({ method: template.method, path: template.path, body: JSON.stringify(template.body) }, signal);
        this.expectSuccess(
          `${template.method} ${sent.endpoint.display}${template.path}`,
          sent.response,
          'set install_templates: false to manage templates yourself',
        );
      }
      this.logger.info({ templates: templateRequests(this.id, this.config).map((template) => template.path) }, 'installed index templates');
    }
    if (this.config.pipeline !== undefined) {
      const path = `/_ingest/pipeline/${encodeURIComponent(this.config.pipeline)}`;
      const sent = await this.request({ method: 'GET', path }, signal);
      if (sent.response.status === 404) {
        throw new TributaryError('CONFIG_INVALID', `output ${this.id}: ingest pipeline "${this.config.pipeline}" does not exist on ${sent.endpoint.display}`);
      }
      if (sent.response.status === 403)
        this.logger.info({ pipeline: this.config.pipeline }, 'not allowed to read ingest pipelines; cannot check that it exists');
      else this.expectSuccess(`GET ${sent.endpoint.display}${path}`, sent.response, 'the pipeline is checked at start-up');
    }
  }

  /** 2xx passes; 401/403 block (retried loudly); 429/5xx retry; any other status is a permanent start-up error. */
  private expectSuccess(what: string, response: TextResponse, hint: string): void {
    const status = response.status;
    if (status >= 200 && status < 300) return;
    if (status === 401 || status === 403) throw this.blockedError(what, response, status === 401 ? this.credentialsHint() : hint);
    if (status === 429 || status === 408 || status >= 500) throw this.unavailableError(what, response);
    throw new TributaryError('SINK_REJECTED', `output ${this.id}: ${what} refused: ${responseReason(response)}`);
  }

  /** What a 401 means, naming the key that holds the credentials sent. */
  private credentialsHint(): string {
    const auth = this.config.auth;
    const key = auth?.basic
      ? 'auth.basic'
      : auth
        ? 'auth.api_key'
        : this.config.endpoints.some((url) => url.includes('@'))
          ? 'the credentials in endpoints'
          : 'auth (none is set)';
    return `the server refused the credentials: check ${key}`;
  }

  private blockedError(what: string, response: TextResponse, hint?: string): TributaryError {
    return new TributaryError('SINK_UNAVAILABLE', `${what}: ${responseReason(response)}${hint === undefined ? '' : ` (${hint})`}`, {
      retriable: true,
      context: { blocked: true },
    });
  }

  private unavailableError(what: string, response: TextResponse): TributaryError {
    return new TributaryError('SINK_UNAVAILABLE', `${what}: ${responseReason(response)}`, { retriable: true });
  }

  /** One request with failover to the next endpoint (see HttpTransport.sendWithFailover). */
  private request(request: HttpRequest, signal: AbortSignal): Promise<SentRequest & { endpoint: Endpoint }> {
    return sendLogged(this.transport, this.logger, request, signal);
  }

  async write(records: readonly OutgoingRecord[], signal?: AbortSignal): Promise<WriteResult> {
    if (records.length === 0) return { rejected: [] };
    if (this.stopped) throw new TributaryError('SHUTDOWN', `output ${this.id} is stopped`, { retriable: true });
    const { signal: abort, release } = writeSignal(signal, this.lifetime.signal);
    this.metrics.eventsIn.inc(records.length);
    this.metrics.queuedEvents.inc(records.length);
    let unresolved = records.length;
    let written = 0;
    const rejected: RejectedRecord[] = [];
    const reject = (item: BulkItem, reason: string): void => {
      rejected.push({ index: item.index, reason });
    };
    try {
      let pending = records.map((record, index) => this.encode(record, index));
      // One try sends what is pending until nothing is, or until a round leaves records that must wait (a 413 split
      // resends at once and does not count). retry.max_attempts counts each record's sends, so it is checked per record
      // here; the rounds are retried until stop.
      const sendRounds = async (): Promise<void> => {
        while (pending.length > 0) {
          const requests = planRequests(pending, this.maxBytes, this.config.batch.max_events);
          const outcomes = await Promise.all(requests.map((items) => this.limiter.run(() => this.sendBulk(items, abort), abort)));
          const again: BulkItem[] = [];
          let pushback: number | undefined;
          let blocked: string | undefined;
          let firstReason: string | undefined;
          let onlySplits = true;
          let done = 0;
          const rejectedBefore = rejected.length;
          for (const [position, outcome] of outcomes.entries()) {
            const items = requests[position] as BulkItem[];
            if (outcome.kind === 'items') {
              for (const [i, verdict] of outcome.verdicts.entries()) {
                const item = items[i] as BulkItem;
                if (verdict.kind === 'done') done++;
                else if (verdict.kind === 'reject') reject(item, verdict.reason);
                else {
                  item.lastError = verdict.reason;
                  again.push(item);
                  onlySplits = false;
                  firstReason ??= verdict.reason;
                  if (verdict.blocked) blocked ??= verdict.reason;
                }
              }
            } else if (outcome.kind === 'retry') {
              for (const item of items) item.lastError = outcome.reason;
              again.push(...items);
              onlySplits = false;
              firstReason ??= outcome.reason;
              if (outcome.blocked) blocked ??= outcome.reason;
              if (outcome.retryAfterMs !== undefined) pushback = Math.max(pushback ?? 0, outcome.retryAfterMs);
            } else if (outcome.kind === 'too_large') {
              if (items.length === 1) reject(items[0] as BulkItem, outcome.reason);
              else {
                // Not the documents' fault: split without counting an attempt or waiting.
                for (const item of items) item.attempts--;
                again.push(...items);
                this.lowerMaxBytes(items, outcome.reason);
              }
            } else {
              for (const item of items) reject(item, outcome.reason);
            }
          }
          const maxAttempts = this.config.retry.max_attempts;
          pending = [];
          for (const item of again) {
            if (maxAttempts !== undefined && item.attempts >= maxAttempts)
              reject(item, `gave up after ${item.attempts} attempts: ${item.lastError ?? 'unknown error'}`);
            else pending.push(item);
          }
          written += done;
          this.metrics.eventsOut.inc(done);
          const resolved = done + rejected.length - rejectedBefore;
          unresolved -= resolved;
          this.metrics.queuedEvents.dec(resolved);
          if (pending.length > 0 && !onlySplits) throw new PendingRecords(pending.length, firstReason ?? 'unknown error', blocked, pushback);
        }
      };
      await retry(
        sendRounds,
        {
          policy: { initialMs: this.config.retry.initial_backoff, maxMs: this.config.retry.max_backoff },
          signal: abort,
          classify: (error) => (error instanceof PendingRecords ? 'retry' : 'fail'),
          // A server's Retry-After is a floor under the backoff, never a shortcut.
          delayMs: (backoffMs, error) => Math.max(backoffMs, error instanceof PendingRecords ? (error.retryAfterMs ?? 0) : 0),
          onRetry: (attempt, delayMs, error) => {
            const round = error as PendingRecords;
            this.metrics.retriedEvents.inc(round.records);
            const context = { retrying: round.records, indexed: written, rejected: rejected.length, attempt, retry_in_ms: delayMs };
            if (round.blocked !== undefined) {
              this.logger.error(
                { ...context, reason: round.blocked },
                'Elasticsearch refuses requests (credentials, privileges, a read-only block or a wrong endpoint path?); records wait and are retried',
              );
            } else {
              this.logger.warn({ ...context, reason: round.reason }, 'bulk requests or items failed; retrying exactly those records');
            }
          },
          abortError: () =>
            new TributaryError('SHUTDOWN', `output ${this.id}: gave up retrying at shutdown (${pending.length} records not indexed)`, { retriable: true }),
        },
        this.random,
        this.sleep,
      );
    } finally {
      release();
      this.metrics.queuedEvents.dec(unresolved);
    }
    reportRejected(rejected, this.metrics, this.logger, 'Elasticsearch rejected documents; they go to the dead-letter topic');
    return { rejected };
  }

  private lowerMaxBytes(items: readonly BulkItem[], reason: string): void {
    let bytes = 0;
    for (const item of items) bytes += item.bytes;
    const lowered = Math.max(1, Math.floor(bytes / 2));
    if (lowered >= this.maxBytes) return;
    this.maxBytes = lowered;
    this.logger.warn({ max_bytes: lowered, reason }, 'request too large for the server; sending smaller bulk requests from now on');
  }

  private encode(outgoing: OutgoingRecord, index: number): BulkItem {
    const record = outgoing.record;
    const kind = record.schema === 'tributary.metric.v1' ? 'metrics' : 'logs';
    let target: string;
    let stream: DataStreamFields | undefined;
    if (this.config.mode === 'data_stream') {
      const settings = this.config.data_stream;
      stream = {
        type: settings.type ?? kind,
        dataset: renderStreamPart(settings.dataset, record, 'generic'),
        namespace: renderStreamPart(settings.namespace, record, 'default'),
      };
      target = `${stream.type}-${stream.dataset}-${stream.namespace}`;
    } else {
      target = renderIndexName(this.config.index[kind], record);
    }
    const document = record.schema === 'tributary.metric.v1' ? metricDocument(record, stream) : logDocument(record, stream);
    return bulkItem(index, target, record.id, JSON.stringify(document));
  }

  private async sendBulk(items: readonly BulkItem[], signal: AbortSignal): Promise<RequestOutcome> {
    for (const item of items) item.attempts++;
    const request: HttpRequest = { method: 'POST', path: this.bulkPath, body: bulkBody(items), contentType: 'application/x-ndjson', compress: true };
    const timer = this.metrics.requestDuration.startTimer();
    let sent: SentRequest & { endpoint: Endpoint };
    try {
      sent = await inSpan('elasticsearch.bulk', { 'db.system': 'elasticsearch', 'db.operation': 'bulk', 'tributary.bulk.items': items.length }, () =>
        this.request(request, signal),
      );
    } catch (error) {
      if (error instanceof TributaryError && error.code === 'SHUTDOWN') throw error;
      this.metrics.error('sink_unavailable');
      this.healthy = false;
      return { kind: 'retry', reason: errorMessage(error), blocked: false };
    } finally {
      timer();
    }
    const { response, endpoint } = sent;
    this.metrics.bytesOut.inc(sent.wireBytes);
    if (sent.wireBytes > 0) this.metrics.compressionRatio.set(sent.rawBytes / sent.wireBytes);
    const status = response.status;
    if (status >= 200 && status < 300) {
      const verdicts = parseBulkResponse(response.body, items.length);
      if (!verdicts) {
        this.healthy = true;
        this.metrics.error('sink_unavailable');
        return { kind: 'retry', reason: `${endpoint.display}: a _bulk response that does not match the request (HTTP ${status})`, blocked: false };
      }
      // A role allowed to call _bulk but not to write these indices gets 200 with a 403 per item: as blocked as a 403 to the whole request.
      this.healthy = !verdicts.every((verdict) => verdict.kind === 'retry' && verdict.blocked);
      this.metrics.batchesOut.inc();
      let retried = 0;
      for (const verdict of verdicts) if (verdict.kind === 'retry') retried++;
      if (retried > 0) this.metrics.error('sink_unavailable', retried);
      return { kind: 'items', verdicts };
    }
    const reason = `HTTP ${status} from ${endpoint.display}/_bulk: ${responseReason(response)}${status === 401 ? ` (${this.credentialsHint()})` : ''}`;
    if (status === 413) return { kind: 'too_large', reason };
    const pushback = retryAfterMs(response.headers['retry-after']);
    const retryAfter = pushback === undefined ? {} : { retryAfterMs: pushback };
    if (status === 401 || status === 403 || status === 404) {
      this.metrics.error('sink_unavailable');
      this.healthy = false;
      return { kind: 'retry', reason, blocked: true, ...retryAfter };
    }
    if (status === 429 || status === 408 || status >= 500 || status < 400) {
      this.metrics.error('sink_unavailable');
      // 429 is the cluster pushing back, not a failure of the sink's path to it.
      if (status !== 429) this.healthy = false;
      return { kind: 'retry', reason, blocked: false, ...retryAfter };
    }
    return { kind: 'reject', reason };
  }

  /** Aborts start-up checks and retries still running (the collector stops outputs after its last step), closes the connections. */
  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    this.healthy = false;
    this.lifetime.abort();
    this.transport.close();
    return Promise.resolve();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A response's error in one line: Elasticsearch's `type: reason`, else the start of the body. */
function responseReason(response: TextResponse): string {
  const parsed = parseJson(response.body) as { error?: unknown; status?: unknown } | undefined;
  const error = parsed?.error;
  if (error !== null && typeof error === 'object') return describeError(response.status, error);
  if (typeof error === 'string') return `${response.status} ${error}`;
  const text = response.body.trim().slice(0, 200);
  return text === '' ? `HTTP ${response.status}` : `HTTP ${response.status} ${text}`;
}
