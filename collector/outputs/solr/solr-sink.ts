import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { HttpRequestError } from '../../../shared/http/http-errors.js';
import { HttpTransport, type Endpoint, type HttpRequest, type SentRequest } from '../../../shared/http/http-transport.js';
import { Semaphore } from '../../../shared/pipeline/semaphore.js';
import { sleep as abortableSleep } from '../../../shared/pipeline/backoff.js';
import { retry, type Sleep } from '../../../shared/pipeline/retry.js';
import type { OutgoingRecord, RecordSink, RejectedRecord, WriteResult } from '../../../shared/pipeline/record-sink.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';
import type { SolrOutputConfig } from './config.js';
import { logDocument, metricDocument } from './document.js';
import { reportRejected, retryStartup, sendLogged, writeSignal } from '../sink-support.js';
import { classifyUpdateResponse, solrErrorMessage, type UpdateVerdict } from './update-response.js';

/** Test seams: time and randomness. */
export interface SolrSinkOptions {
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
  /** How often the TLS files are checked for a rotation; tests shorten it. */
  tlsReloadIntervalMs?: number;
}

/** One record on its way: its document, serialized once. */
interface UpdateItem {
  /** Position in the written batch (what `rejected` reports). */
  readonly index: number;
  readonly id: string;
  readonly collection: string;
  readonly json: string;
  /** Sends so far (a split or a resend after another document's refusal does not count). */
  attempts: number;
  lastError?: string;
}

/** Documents sent together: one collection, at most batch.max_bytes and batch.max_events. */
type Group = UpdateItem[];

/** A round of update requests left records that must wait before they are sent again: what the retry logs and waits on. */
class PendingRecords extends Error {
  constructor(
    readonly records: number,
    readonly reason: string,
    /** Set when Solr refuses requests as such (credentials, permissions, no such collection): logged as an error. */
    readonly blocked: string | undefined,
  ) {
    super(`${records} records not indexed: ${reason}`);
    this.name = 'PendingRecords';
  }
}

/**
 * Writes standard records to Solr through a collection's JSON update handler
 * (`POST /<collection>/update`, a JSON array of documents) with
 * `commitWithin`. The document id is the event id (Solr's uniqueKey), so a
 * replay overwrites instead of duplicating. `write` resolves only when Solr
 * answered 2xx for every record (it is in the update log then) or reported it
 * refused (`rejected` → the dead-letter topic); until then it retries with
 * backoff, so a down server holds the step, its offsets stay uncommitted, and
 * the collector stops consuming.
 *
 * With the tolerant update chain a bad document fails alone and the response
 * names it; without it Solr fails a request at its first bad document, which
 * the answer names (`[doc=ID]`): that one is rejected and the rest sent again
 * at once; a refusal that names no document splits the request in halves
 * until the bad document stands alone.
 */
export class SolrSink implements RecordSink {
  private readonly transport: HttpTransport;
  private readonly limiter: Semaphore;
  private readonly lifetime = new AbortController();
  private readonly sleep: Sleep;
  private readonly random: () => number;
  /** The tolerant chain's name while the server has it; undefined once it turned out missing. */
  private chain: string | undefined;
  private healthy = false;
  private stopped = false;

  constructor(
    readonly id: string,
    private readonly config: SolrOutputConfig,
    private readonly metrics: ComponentMetrics,
    private readonly logger: Logger,
    options: SolrSinkOptions = {},
  ) {
    // Solr's Jetty does not inflate request bodies: no compression.
    this.transport = new HttpTransport({ ...config, compression: 'none' }, options.now, `outputs.${id}`, { logger, intervalMs: options.tlsReloadIntervalMs });
    this.limiter = new Semaphore(config.max_concurrent_requests);
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    this.chain = config.update_chain === false ? undefined : config.update_chain;
  }

  ready(): boolean {
    return this.healthy;
  }

  /**
   * Reads secrets and TLS files, then (retrying while the server is
   * unreachable or refuses, until stop) sends an empty update to each
   * collection: it proves the collection exists, the credentials may update
   * it, and whether the tolerant chain is there.
   */
  async start(): Promise<void> {
    await this.transport.open();
    const signal = this.lifetime.signal;
    await retryStartup(() => this.prepare(signal), this.config.retry, signal, this.logger, 'Solr start-up checks failed; retrying');
    this.healthy = true;
    this.logger.info(
      {
        endpoints: this.transport.endpoints.map((endpoint) => endpoint.display),
        collections: [...new Set(Object.values(this.config.collection))],
        update_chain: this.chain ?? null,
      },
      'Solr output started',
    );
  }

  private async prepare(signal: AbortSignal): Promise<void> {
    for (const collection of new Set(Object.values(this.config.collection))) {
      for (;;) {
        const sent = await this.request({ method: 'POST', path: this.updatePath(collection, false), body: '[]', contentType: 'application/json' }, signal);
        const where = `POST ${sent.endpoint.display}/${collection}/update`;
        const verdict = classifyUpdateResponse(sent.response.status, sent.response.body);
        if (verdict.kind === 'done') break;
        if (verdict.kind === 'no_chain') {
          this.logger.warn(
            { collection, update_chain: this.chain, reason: verdict.reason },
            'the update chain is not configured on the server; a request with a bad document will be split to find it',
          );
          this.chain = undefined;
          continue;
        }
        if (verdict.kind === 'retry') {
          const reason = this.explainRefusal(sent.response.status, verdict.reason, collection);
          throw new TributaryError('SINK_UNAVAILABLE', `${where}: ${reason}`, {
            retriable: true,
            context: { blocked: verdict.blocked, status: sent.response.status },
          });
        }
        throw new TributaryError(
          'SINK_REJECTED',
          `output ${this.id}: ${where} refused an empty update: ${solrErrorMessage(sent.response.status, sent.response.body)}`,
        );
      }
    }
  }

  /**
   * A refusal as such (401, 403, 404) with what to fix, in the words of Solr's security plugins: the sink
   * only ever sends updates, so a 403 means the user lacks the `update` permission (Solr's answer names no
   * permission; its log does).
   */
  private explainRefusal(status: number, reason: string, collection: string): string {
    const key = `outputs.${this.id}`;
    const username = this.config.auth?.basic.username ?? this.urlUsername();
    switch (status) {
      case 401:
        return username === undefined
          ? `${reason}: Solr requires authentication: set ${key}.auth.basic`
          : `${reason}: Solr refused the credentials of user "${username}": check ${key}.auth.basic`;
      case 403:
        return (
          `${reason}: user "${username ?? '(anonymous)'}" may not update collection ${collection}: with Solr's ` +
          `RuleBasedAuthorizationPlugin, give one of the user's roles the "update" permission (see ${key}.auth.basic)`
        );
      case 404:
        return `${reason} (does the collection exist?)`;
      default:
        return reason;
    }
  }

  private urlUsername(): string | undefined {
    for (const endpoint of this.config.endpoints) {
      const username = URL.canParse(endpoint) ? decodeURIComponent(new URL(endpoint).username) : '';
      if (username !== '') return username;
    }
    return undefined;
  }

  private updatePath(collection: string, withCommit: boolean): string {
    const query = new URLSearchParams({ wt: 'json' });
    if (withCommit && this.config.commit_within > 0) query.set('commitWithin', String(this.config.commit_within));
    if (this.chain !== undefined) query.set('update.chain', this.chain);
    return `/${encodeURIComponent(collection)}/update?${query.toString()}`;
  }

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
    try {
      let pending = this.plan(records.map((record, index) => this.encode(record, index)));
      // One try sends what is pending until nothing is, or until a round leaves records that must wait (splits and
      // resends go at once and do not count). retry.max_attempts counts each record's sends, so it is checked per
      // record here; the rounds are retried until stop.
      const sendRounds = async (): Promise<void> => {
        while (pending.length > 0) {
          const outcomes = await Promise.all(pending.map((group) => this.limiter.run(() => this.sendGroup(group, abort), abort)));
          const next: Group[] = [];
          let waitBeforeNext = false;
          let blocked: string | undefined;
          let firstReason: string | undefined;
          let done = 0;
          const rejectedBefore = rejected.length;
          const reject = (item: UpdateItem, reason: string): void => {
            rejected.push({ index: item.index, reason });
          };
          /** Sends again at once without counting an attempt: not these documents' fault. */
          const resend = (items: Group): void => {
            if (items.length === 0) return;
            for (const item of items) item.attempts--;
            next.push(items);
          };
          for (const [position, verdict] of outcomes.entries()) {
            const group = pending[position] as Group;
            switch (verdict.kind) {
              case 'done':
                for (const item of group) {
                  const reason = verdict.failed.get(item.id);
                  if (reason === undefined) done++;
                  else reject(item, reason);
                }
                break;
              case 'bad_document': {
                const bad = group.find((item) => item.id === verdict.id);
                if (bad === undefined) {
                  // A [doc=…] that is none of ours (a document's field quoting another id?): find it by splitting.
                  if (group.length === 1) reject(group[0] as UpdateItem, verdict.reason);
                  else {
                    resend(group.slice(0, group.length >> 1));
                    resend(group.slice(group.length >> 1));
                  }
                  break;
                }
                reject(bad, verdict.reason);
                resend(group.filter((item) => item !== bad));
                break;
              }
              case 'split':
                if (group.length === 1) reject(group[0] as UpdateItem, verdict.reason);
                else {
                  resend(group.slice(0, group.length >> 1));
                  resend(group.slice(group.length >> 1));
                }
                break;
              case 'no_chain':
                if (this.chain !== undefined) {
                  this.logger.warn({ update_chain: this.chain, reason: verdict.reason }, 'the update chain is gone from the server; sending without it');
                  this.chain = undefined;
                }
                resend(group);
                break;
              case 'retry':
                for (const item of group) item.lastError = verdict.reason;
                next.push(group);
                waitBeforeNext = true;
                firstReason ??= verdict.reason;
                if (verdict.blocked) blocked ??= verdict.reason;
                break;
            }
          }
          const maxAttempts = this.config.retry.max_attempts;
          pending = [];
          let retrying = 0;
          for (const group of next) {
            const keep = group.filter((item) => {
              if (maxAttempts === undefined || item.attempts < maxAttempts) return true;
              reject(item, `gave up after ${item.attempts} attempts: ${item.lastError ?? 'unknown error'}`);
              return false;
            });
            if (keep.length > 0) pending.push(keep);
            retrying += keep.length;
          }
          written += done;
          this.metrics.eventsOut.inc(done);
          const resolved = done + rejected.length - rejectedBefore;
          unresolved -= resolved;
          this.metrics.queuedEvents.dec(resolved);
          if (pending.length > 0 && waitBeforeNext) throw new PendingRecords(retrying, firstReason ?? 'unknown error', blocked);
        }
      };
      await retry(
        sendRounds,
        {
          policy: { initialMs: this.config.retry.initial_backoff, maxMs: this.config.retry.max_backoff },
          signal: abort,
          classify: (error) => (error instanceof PendingRecords ? 'retry' : 'fail'),
          onRetry: (attempt, delayMs, error) => {
            const round = error as PendingRecords;
            this.metrics.retriedEvents.inc(round.records);
            const context = { retrying: round.records, indexed: written, rejected: rejected.length, attempt, retry_in_ms: delayMs };
            if (round.blocked !== undefined) {
              this.logger.error(
                { ...context, reason: round.blocked },
                'Solr refuses requests (credentials, permissions, or no such collection?); records wait and are retried',
              );
            } else {
              this.logger.warn({ ...context, reason: round.reason }, 'update requests failed; retrying those records');
            }
          },
          abortError: (error) =>
            new TributaryError(
              'SHUTDOWN',
              `output ${this.id}: gave up retrying at shutdown (${error instanceof PendingRecords ? error.records : 0} records not indexed)`,
              { retriable: true },
            ),
        },
        this.random,
        this.sleep,
      );
    } finally {
      release();
      this.metrics.queuedEvents.dec(unresolved);
    }
    reportRejected(rejected, this.metrics, this.logger, 'Solr refused documents; they go to the dead-letter topic');
    return { rejected };
  }

  private encode(outgoing: OutgoingRecord, index: number): UpdateItem {
    const record = outgoing.record;
    const metric = record.schema === 'tributary.metric.v1';
    const document = metric ? metricDocument(record, this.config.mapping) : logDocument(record, this.config.mapping);
    const collection = metric ? this.config.collection.metrics : this.config.collection.logs;
    return { index, id: record.id, collection, json: JSON.stringify(document), attempts: 0 };
  }

  /**
   * Groups by collection, then cuts each into requests of at most max_events documents and max_bytes (a larger
   * single document goes alone). A replayed id within one write keeps its order: Solr applies a request in order.
   */
  private plan(items: readonly UpdateItem[]): Group[] {
    const byCollection = new Map<string, UpdateItem[]>();
    for (const item of items) {
      let list = byCollection.get(item.collection);
      if (!list) byCollection.set(item.collection, (list = []));
      list.push(item);
    }
    const groups: Group[] = [];
    const { max_bytes: maxBytes, max_events: maxEvents } = this.config.batch;
    for (const list of byCollection.values()) {
      let group: Group = [];
      let bytes = 2;
      for (const item of list) {
        const size = Buffer.byteLength(item.json) + 1;
        if (group.length > 0 && (group.length >= maxEvents || bytes + size > maxBytes)) {
          groups.push(group);
          group = [];
          bytes = 2;
        }
        group.push(item);
        bytes += size;
      }
      if (group.length > 0) groups.push(group);
    }
    return groups;
  }

  private async sendGroup(group: Group, signal: AbortSignal): Promise<UpdateVerdict> {
    for (const item of group) item.attempts++;
    const collection = (group[0] as UpdateItem).collection;
    const body = `[${group.map((item) => item.json).join(',')}]`;
    const request: HttpRequest = { method: 'POST', path: this.updatePath(collection, true), body, contentType: 'application/json' };
    const timer = this.metrics.requestDuration.startTimer();
    let sent: SentRequest & { endpoint: Endpoint };
    try {
      sent = await inSpan(
        'solr.update',
        { 'db.system': 'solr', 'db.operation': 'update', 'db.name': collection, 'tributary.update.documents': group.length },
        () => this.request(request, signal),
      );
    } catch (error) {
      if (error instanceof TributaryError && error.code === 'SHUTDOWN') throw error;
      this.metrics.error('sink_unavailable');
      this.healthy = false;
      // A TLS failure (unknown CA, wrong name) will not heal by waiting: logged as an error like a 401.
      return { kind: 'retry', reason: errorMessage(error), blocked: error instanceof HttpRequestError && error.tls !== undefined };
    } finally {
      timer();
    }
    this.metrics.bytesOut.inc(sent.wireBytes);
    const verdict = classifyUpdateResponse(sent.response.status, sent.response.body);
    const where = `${sent.endpoint.display}/${collection}/update`;
    switch (verdict.kind) {
      case 'done':
        this.healthy = true;
        this.metrics.batchesOut.inc();
        return verdict;
      case 'retry':
        this.metrics.error('sink_unavailable');
        // 429 is the server pushing back, not a failure of the sink's path to it.
        if (sent.response.status !== 429) this.healthy = false;
        return { ...verdict, reason: `${where}: ${this.explainRefusal(sent.response.status, verdict.reason, collection)}` };
      default:
        // The server is there and answering: a refused document is not an outage.
        this.healthy = true;
        return { ...verdict, reason: `${where}: ${verdict.reason}` };
    }
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
