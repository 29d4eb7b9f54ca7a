import { createHash } from 'node:crypto';
import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { sleep as abortableSleep } from '../../../shared/pipeline/backoff.js';
import { retry, type Sleep } from '../../../shared/pipeline/retry.js';
import { SerialQueue } from '../../../shared/pipeline/serial-queue.js';
import type { OutgoingRecord, RecordSink, WriteResult } from '../../../shared/pipeline/record-sink.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { HdfsOutputConfig } from './config.js';
import { encodeMember, fileExtension } from './encoder.js';
import { comparePositions, formatPosition, positionOf, type SourcePosition } from '../../../shared/pipeline/source-position.js';
import { TEMP_DIR, finalName, parseFinalName, parseTempName, tempName, type TempName } from './file-names.js';
import { renderDirectory } from './path-template.js';
import { WebHdfsClient, type FileStatus } from './webhdfs-client.js';
import { retriableUnlessShutdown, retryStartup, writeSignal } from '../sink-support.js';

/** Test seams: time and randomness. */
export interface HdfsSinkOptions {
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
  /** How often open files are checked against roll.interval and roll.idle_timeout; default from those. */
  rollCheckMs?: number;
}

/** The file being appended to for one (directory, topic, partition). */
interface OpenFile {
  start: SourcePosition;
  end: SourcePosition;
  /** Committed bytes: what its name says. */
  bytes: number;
  records: number;
  openedAt: number;
  lastWriteAt: number;
}

/**
 * What the sink knows of one (directory, source topic, source partition). Every HDFS operation on it runs in `queue`, one at a
 * time; a state is only forgotten when idle (nothing queued or held), so one file never has two queues.
 */
interface FileState {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  /** The last source position whose records for this directory are in HDFS; undefined when none. Valid while `open` is set. */
  highWater: SourcePosition | undefined;
  open: OpenFile | undefined;
  readonly queue: SerialQueue;
  /** Writes holding the state while they recover their partitions, before their operations are queued. */
  held: number;
}

/** Marker files: which directories may hold an in-progress file of a partition (so recovery finds them without a tree walk). */
const MARKER_DIR = '_tributary/open';
/** A truncate that must wait for block recovery polls the length this often, this many times, before the write retries. */
const TRUNCATE_POLL_MS = 200;
const TRUNCATE_POLLS = 150;

/**
 * Writes standard records as NDJSON files (gzip, zstd or plain) to HDFS over
 * WebHDFS, in directories from a path template, with exactly-once files named
 * by Kafka offsets. See README.md for the layout, the protocol and recovery.
 *
 * `write` appends each (directory, source partition) group of the step as one
 * compressed member to that pair's open file and renames the file so that its
 * name records the new committed length and end offset; it resolves after
 * the rename. A crash at any point leaves either the old name (the append is
 * cut off again at recovery) or the new one (the records are in HDFS and a
 * replay skips them by offset).
 */
export class HdfsSink implements RecordSink {
  private readonly client: WebHdfsClient;
  private readonly lifetime = new AbortController();
  /**
   * Aborted first thing in stop(): a write still in flight (HDFS slow, or retrying while it is away) rejects
   * with a retriable SHUTDOWN at once instead of holding stop until HDFS answers; what it left half-written is
   * cut off by the next owner's recovery, as after a crash. Finishing files at stop keeps its own deadline.
   */
  private readonly writes = new AbortController();
  private readonly states = new Map<string, FileState>();
  /** Source partitions (`topic\0partition`) whose leftover markers this process has recovered, and when it last wrote them. */
  private readonly partitions = new Map<string, { recovered: Promise<void> | undefined; lastWriteAt: number }>();
  private readonly background = new Set<Promise<void>>();
  private readonly extension: string;
  private readonly markerRoot: string;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly rollCheckMs: number;
  private timer: NodeJS.Timeout | undefined;
  private healthy = false;
  private stopped = false;

  constructor(
    readonly id: string,
    private readonly config: HdfsOutputConfig,
    private readonly metrics: ComponentMetrics,
    private readonly logger: Logger,
    options: HdfsSinkOptions = {},
  ) {
    this.client = new WebHdfsClient({
      namenodes: config.namenodes,
      user: config.auth.user,
      ...(config.auth.delegation_token === undefined ? {} : { delegationToken: config.auth.delegation_token }),
      ...(config.auth.delegation_token_file === undefined ? {} : { delegationTokenFile: config.auth.delegation_token_file }),
      requestTimeoutMs: config.request_timeout,
      tls: config.tls,
      tlsReload: { logger },
      configKey: `outputs.${id}`,
    });
    this.extension = fileExtension(config.compression);
    this.markerRoot = `${config.path.base === '/' ? '' : config.path.base}/${MARKER_DIR}`;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.rollCheckMs = options.rollCheckMs ?? Math.min(5_000, Math.max(100, Math.floor(Math.min(config.roll.interval, config.roll.idle_timeout) / 2)));
  }

  ready(): boolean {
    return this.healthy;
  }

  /** Reads the TLS and token files, then (retrying until stop) checks that a namenode answers and the base directory exists. */
  async start(): Promise<void> {
    await this.client.open();
    const signal = this.lifetime.signal;
    // Only a TLS failure is `blocked` (an error); every other retry here is a warning.
    await retryStartup(
      () => this.client.mkdirs(this.config.path.base, signal),
      this.config.retry,
      signal,
      this.logger,
      'HDFS not reachable at start-up; retrying',
    );
    this.healthy = true;
    this.timer = setInterval(() => this.rollIdle(), this.rollCheckMs);
    this.timer.unref();
    this.logger.info({ namenodes: this.config.namenodes, base: this.config.path.base, compression: this.config.compression }, 'HDFS output started');
  }

  async write(records: readonly OutgoingRecord[], signal?: AbortSignal): Promise<WriteResult> {
    if (records.length === 0) return { rejected: [] };
    if (this.stopped) throw new TributaryError('SHUTDOWN', `output ${this.id} is stopped`, { retriable: true });
    const { signal: abort, release } = writeSignal(signal, this.writes.signal);
    this.metrics.eventsIn.inc(records.length);
    this.metrics.queuedEvents.inc(records.length);
    try {
      // One group per (directory, source partition), records in their order (ascending offsets within a partition).
      const groups = new Map<string, { state: FileState; records: OutgoingRecord[] }>();
      for (const outgoing of records) {
        const dir = renderDirectory(this.config.path, outgoing.record, this.config.missing_value);
        const key = `${dir}\u0000${outgoing.origin.topic}\u0000${outgoing.origin.partition}`;
        let group = groups.get(key);
        if (group === undefined) groups.set(key, (group = { state: this.state(dir, outgoing.origin.topic, outgoing.origin.partition), records: [] }));
        group.records.push(outgoing);
      }
      const partitions = new Set<string>();
      for (const { state } of groups.values()) partitions.add(`${state.topic}\u0000${state.partition}`);
      // Held while recovery runs, so the roll timer does not forget these states before their writes are queued.
      for (const { state } of groups.values()) state.held++;
      try {
        // Retried like the appends: an HDFS away at a partition's first write holds the write, it does not fail it.
        for (const partition of partitions) {
          const [topic, number] = partition.split('\u0000') as [string, string];
          await this.retrying(() => this.recoverPartition(partition, abort), records.length, abort, { topic, partition: Number(number), recovering: true });
        }
        await Promise.all([...groups.values()].map(({ state, records: own }) => state.queue.run(() => this.writeGroup(state, own, abort))));
      } finally {
        for (const { state } of groups.values()) state.held--;
      }
      for (const partition of partitions) {
        const known = this.partitions.get(partition);
        if (known) known.lastWriteAt = this.now();
      }
      this.healthy = true;
    } finally {
      release();
      this.metrics.queuedEvents.dec(records.length);
    }
    return { rejected: [] };
  }

  private state(dir: string, topic: string, partition: number): FileState {
    const key = `${dir}\u0000${topic}\u0000${partition}`;
    let state = this.states.get(key);
    if (state === undefined)
      this.states.set(key, (state = { dir, topic, partition, highWater: undefined, open: undefined, queue: new SerialQueue(), held: 0 }));
    return state;
  }

  /** Retries one group until it is in HDFS (or retry.max_attempts tries failed); every failure makes the next try look at HDFS first (sync). */
  private writeGroup(state: FileState, records: readonly OutgoingRecord[], signal: AbortSignal): Promise<void> {
    return this.retrying(
      async () => {
        try {
          await this.appendGroup(state, records, signal);
        } catch (error) {
          // Whatever failed, what HDFS holds is known only by looking again.
          state.open = undefined;
          throw error;
        }
      },
      records.length,
      signal,
      { dir: state.dir, topic: state.topic, partition: state.partition },
    );
  }

  /**
   * Runs one step of a write (recovering its partitions, appending a group) with retry.max_attempts and
   * backoff; each failed try is counted as an error and as `records` events tried again, whichever request
   * of the try failed, so a write held by an unreachable HDFS is counted alike wherever it stopped.
   */
  private async retrying(operation: () => Promise<void>, records: number, signal: AbortSignal, context: Record<string, unknown>): Promise<void> {
    try {
      await retry(
        operation,
        {
          policy: { initialMs: this.config.retry.initial_backoff, maxMs: this.config.retry.max_backoff, maxAttempts: this.config.retry.max_attempts },
          signal,
          classify: retriableUnlessShutdown,
          onRetry: (attempt, delayMs, error) => {
            this.healthy = false;
            this.metrics.error('sink_unavailable');
            this.metrics.retriedEvents.inc(records);
            this.logger.warn(
              { ...context, attempt, retry_in_ms: delayMs, err: errorMessage(error) },
              'HDFS write failed; looking at HDFS again and retrying (offsets stay uncommitted)',
            );
          },
          abortError: (error) => new TributaryError('SHUTDOWN', `output ${this.id}: gave up retrying at shutdown`, { retriable: true, cause: error }),
        },
        this.random,
        this.sleep,
      );
    } catch (error) {
      // At shutdown any failure, even one that looks permanent, may be the abort's doing: the step is replayed, not dead-lettered.
      if (signal.aborted && !(error instanceof TributaryError && error.code === 'SHUTDOWN')) {
        throw new TributaryError('SHUTDOWN', `output ${this.id}: gave up at shutdown: ${errorMessage(error)}`, { retriable: true, cause: error });
      }
      throw error;
    }
  }

  private async appendGroup(state: FileState, records: readonly OutgoingRecord[], signal: AbortSignal): Promise<void> {
    // Without an open file, what HDFS holds for this directory and partition is read first (recovery on first touch, after a
    // failure, and before every new file: another collector may have written here while the partition was away).
    if (state.open === undefined) await this.sync(state, signal);
    const fresh: string[] = [];
    let first: SourcePosition | undefined;
    let last: SourcePosition | undefined;
    const highWater = state.highWater;
    for (const outgoing of records) {
      const at = positionOf(outgoing.origin);
      if (highWater !== undefined && comparePositions(at, highWater) <= 0) continue;
      fresh.push(outgoing.json);
      first ??= at;
      if (last === undefined || comparePositions(at, last) > 0) last = at;
    }
    const skipped = records.length - fresh.length;
    if (skipped > 0 && highWater !== undefined) {
      this.logger.info(
        { dir: state.dir, topic: state.topic, partition: state.partition, skipped, high_water: formatPosition(highWater) },
        'records already in HDFS skipped',
      );
    }
    if (first === undefined || last === undefined) return;
    const member = encodeMember(fresh, this.config.compression, this.config.compression_level);
    const timer = this.metrics.requestDuration.startTimer();
    try {
      const open = state.open;
      if (open === undefined) {
        await this.evictIfFull(state);
        // The marker first: a crash after the create leaves a temp file recovery can find from the partition alone.
        await this.client.create(this.markerPath(state), Buffer.from(`${state.dir}\n`), { overwrite: true }, signal);
        // Created under a name that commits nothing (+0), then renamed: a partial create is never mistaken for records.
        const created: TempName = { topic: state.topic, partition: state.partition, start: first, end: last, bytes: 0 };
        const path = this.tempPath(state, created);
        await this.client.create(path, member.data, { overwrite: false }, signal);
        const committed = { ...created, bytes: member.data.length };
        if (!(await this.client.rename(path, this.tempPath(state, committed), signal))) throw this.lost(state, path);
        const now = this.now();
        state.open = { start: first, end: last, bytes: committed.bytes, records: fresh.length, openedAt: now, lastWriteAt: now };
      } else {
        const before = this.tempPath(state, { topic: state.topic, partition: state.partition, start: open.start, end: open.end, bytes: open.bytes });
        await this.client.append(before, member.data, signal);
        const after = this.tempPath(state, {
          topic: state.topic,
          partition: state.partition,
          start: open.start,
          end: last,
          bytes: open.bytes + member.data.length,
        });
        if (!(await this.client.rename(before, after, signal))) throw this.lost(state, before);
        open.end = last;
        open.bytes += member.data.length;
        open.records += fresh.length;
        open.lastWriteAt = this.now();
      }
    } finally {
      timer();
    }
    state.highWater = last;
    this.metrics.eventsOut.inc(fresh.length);
    this.metrics.bytesOut.inc(member.data.length);
    this.metrics.batchesOut.inc();
    if (member.data.length > 0) this.metrics.compressionRatio.set(member.rawBytes / member.data.length);
    const open = state.open;
    if (open !== undefined && (open.bytes >= this.config.roll.max_bytes || open.records >= this.config.roll.max_records)) await this.finalize(state, signal);
  }

  private lost(state: FileState, path: string): TributaryError {
    return new TributaryError('SINK_UNAVAILABLE', `output ${this.id}: ${path} is gone (another collector took partition ${state.topic}/${state.partition}?)`, {
      retriable: true,
    });
  }

  /**
   * Reads what HDFS holds for the state's directory and partition: the
   * high-water offset from finished files' names, and any in-progress file
   * (ours from before a crash, or another collector's) cut back to its
   * committed length and finished. Leaves the state with no open file.
   */
  private async sync(state: FileState, signal: AbortSignal): Promise<void> {
    const [finals, temps] = await Promise.all([this.client.listStatus(state.dir, signal), this.client.listStatus(`${state.dir}/${TEMP_DIR}`, signal)]);
    let highWater: SourcePosition | undefined;
    for (const status of finals ?? []) {
      const name = parseFinalName(status.pathSuffix, this.extension);
      if (name && name.topic === state.topic && name.partition === state.partition && (highWater === undefined || comparePositions(name.end, highWater) > 0)) {
        highWater = name.end;
      }
    }
    const ours: Array<{ name: TempName; status: FileStatus }> = [];
    for (const status of temps ?? []) {
      const name = parseTempName(status.pathSuffix, this.extension);
      if (name && name.topic === state.topic && name.partition === state.partition) ours.push({ name, status });
    }
    ours.sort((a, b) => comparePositions(a.name.start, b.name.start));
    for (const { name, status } of ours) {
      // Its own name, not one rebuilt from the parse: a file named before event indices keeps its old name.
      const path = `${state.dir}/${TEMP_DIR}/${status.pathSuffix}`;
      if (name.bytes === 0) {
        // A create that never got its committed name: nothing in it was acknowledged.
        await this.client.delete(path, signal);
        this.logger.info({ path }, 'removed an unfinished file that holds no committed records');
        continue;
      }
      if (status.length < name.bytes) {
        // Its last block is still open (a writer's lease): HDFS recovers it once the lease expires; truncating asks for that.
        await this.truncate(path, name.bytes, signal);
      } else if (status.length > name.bytes) {
        this.logger.warn({ path, length: status.length, committed: name.bytes }, 'cutting an interrupted append off an in-progress file');
        await this.truncate(path, name.bytes, signal);
      }
      await this.moveToFinal(state, path, name, signal);
      if (highWater === undefined || comparePositions(name.end, highWater) > 0) highWater = name.end;
    }
    state.highWater = highWater;
    state.open = undefined;
    await this.deleteMarker(state, signal);
  }

  private async truncate(path: string, length: number, signal: AbortSignal): Promise<void> {
    if (await this.client.truncate(path, length, signal)) return;
    // Not on a block boundary: the namenode recovers the last block in the background; the file is usable once it has the length.
    for (let poll = 0; poll < TRUNCATE_POLLS; poll++) {
      await this.sleep(TRUNCATE_POLL_MS, signal);
      const status = await this.client.getFileStatus(path, signal);
      if (status?.length === length) return;
    }
    throw new TributaryError('SINK_UNAVAILABLE', `output ${this.id}: truncating ${path} to ${length} bytes has not finished`, { retriable: true });
  }

  /** Renames a temp file to its final name; done already (by us before a crash, or another collector) counts as done. */
  private async moveToFinal(state: FileState, path: string, name: TempName, signal: AbortSignal): Promise<void> {
    const target = `${state.dir}/${finalName(name, this.extension)}`;
    if (await this.client.rename(path, target, signal)) return;
    if ((await this.client.getFileStatus(target, signal)) !== undefined && (await this.client.getFileStatus(path, signal)) === undefined) return;
    throw new TributaryError('SINK_UNAVAILABLE', `output ${this.id}: cannot rename ${path} to ${target}`, { retriable: true });
  }

  /** Finishes the open file: renamed to its final name, the marker removed. */
  private async finalize(state: FileState, signal: AbortSignal): Promise<void> {
    const open = state.open;
    if (open === undefined) return;
    const name: TempName = { topic: state.topic, partition: state.partition, start: open.start, end: open.end, bytes: open.bytes };
    state.open = undefined;
    await this.moveToFinal(state, this.tempPath(state, name), name, signal);
    this.logger.debug({ dir: state.dir, file: finalName(name, this.extension), records: open.records, bytes: open.bytes }, 'file finished');
    await this.deleteMarker(state, signal);
  }

  private async deleteMarker(state: FileState, signal: AbortSignal): Promise<void> {
    try {
      await this.client.delete(this.markerPath(state), signal);
    } catch (error) {
      // A marker left behind costs one look at its directory at the next recovery, nothing more.
      this.logger.debug({ err: errorMessage(error) }, 'could not remove a marker');
    }
  }

  /**
   * Once per source partition in this process (and again when the partition
   * was idle for longer than roll.idle_timeout: it may have been elsewhere):
   * finishes the in-progress files other collectors left in directories this
   * one may never write again, found through their markers.
   */
  private recoverPartition(partition: string, signal: AbortSignal): Promise<void> {
    let known = this.partitions.get(partition);
    if (known === undefined) this.partitions.set(partition, (known = { recovered: undefined, lastWriteAt: this.now() }));
    const idle = this.now() - known.lastWriteAt > this.config.roll.idle_timeout;
    if (known.recovered !== undefined && !idle) return known.recovered;
    const entry = known;
    const [topic, partitionText] = partition.split('\u0000') as [string, string];
    entry.lastWriteAt = this.now();
    entry.recovered = this.recoverMarkers(topic, Number(partitionText), signal).catch((error: unknown) => {
      entry.recovered = undefined;
      throw error;
    });
    return entry.recovered;
  }

  private async recoverMarkers(topic: string, partition: number, signal: AbortSignal): Promise<void> {
    const dir = `${this.markerRoot}/${partitionName(topic, partition)}`;
    const markers = (await this.client.listStatus(dir, signal)) ?? [];
    for (const marker of markers) {
      if (marker.type !== 'FILE') continue;
      let target: string;
      try {
        target = (await this.client.read(`${dir}/${marker.pathSuffix}`, signal)).toString('utf8').trim();
      } catch (error) {
        if (error instanceof TributaryError && error.context.notFound === true) continue;
        throw error;
      }
      if (!target.startsWith('/')) continue;
      const state = this.state(target, topic, partition);
      await state.queue.run(async () => {
        // Our own open file (a write of this process got there first) is not a leftover.
        if (state.open === undefined) await this.sync(state, signal);
      });
    }
    if (markers.length > 0) this.logger.info({ topic, partition, directories: markers.length }, 'recovered in-progress files left by an earlier collector');
  }

  private markerPath(state: FileState): string {
    const hash = createHash('sha256').update(state.dir).digest('hex').slice(0, 32);
    return `${this.markerRoot}/${partitionName(state.topic, state.partition)}/${hash}`;
  }

  private tempPath(state: FileState, name: TempName): string {
    return `${state.dir}/${TEMP_DIR}/${tempName(name, this.extension)}`;
  }

  /** Past max_open_files, the least recently written open file is finished (in the background, on its own chain). */
  private async evictIfFull(current: FileState): Promise<void> {
    const open = [...this.states.values()].filter((state) => state.open !== undefined && state !== current);
    if (open.length < this.config.roll.max_open_files) return;
    open.sort((a, b) => (a.open?.lastWriteAt ?? 0) - (b.open?.lastWriteAt ?? 0));
    const victim = open[0];
    if (victim !== undefined) this.inBackground(victim, 'max_open_files');
    await Promise.resolve();
  }

  /** The roll timer: files open longer than roll.interval or idle longer than roll.idle_timeout are finished. */
  private rollIdle(): void {
    const now = this.now();
    for (const state of this.states.values()) {
      const open = state.open;
      if (open === undefined) continue;
      if (now - open.openedAt >= this.config.roll.interval) this.inBackground(state, 'interval');
      else if (now - open.lastWriteAt >= this.config.roll.idle_timeout) this.inBackground(state, 'idle');
    }
    // Forget states without an open file that have been idle: they are re-read from HDFS on the next write anyway.
    for (const [key, state] of this.states) {
      if (this.states.size <= this.config.roll.max_open_files * 4) break;
      if (state.open === undefined && state.held === 0 && state.queue.pending === 0) this.states.delete(key);
    }
  }

  private inBackground(state: FileState, reason: string): void {
    const task = state.queue
      .run(() => this.finalize(state, this.lifetime.signal))
      .catch((error: unknown) => {
        // The next write (or the next collector's recovery) finishes it; its records are safe in the temp file meanwhile.
        this.metrics.error('sink_unavailable');
        this.logger.warn({ dir: state.dir, reason, err: errorMessage(error) }, 'could not finish a file; it stays in _tmp until the next try');
      });
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  /** Finishes every open file (best effort: what fails is recovered by the next collector), then closes connections. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.writes.abort();
    await Promise.all([...this.background]);
    const signal = AbortSignal.timeout(Math.min(this.config.request_timeout * 2, 30_000));
    await Promise.all(
      [...this.states.values()].map((state) =>
        state.queue
          .run(() => this.finalize(state, signal))
          .catch((error: unknown) =>
            this.logger.warn({ dir: state.dir, err: errorMessage(error) }, 'could not finish a file at shutdown; the next collector will'),
          ),
      ),
    );
    this.healthy = false;
    this.lifetime.abort();
    this.client.close();
  }
}

function partitionName(topic: string, partition: number): string {
  return `${encodeURIComponent(topic)}+${partition}`;
}
