/**
 * Micro-benchmark of the agent's hot path without Kafka: split lines, build
 * raw events, frame them, compress. Compares the way it was done before
 * (object + JSON.stringify + SHA-256 per line, strings joined per frame) with
 * the byte-level writer, and the parts on their own. CPU time per line, best
 * of a few rounds, on lines shaped like those of bench/tail-throughput.ts.
 *
 *   npm run build && node dist/bench/micro/raw-events.js
 *   BENCH_LINES=50000 node dist/bench/micro/raw-events.js
 *
 * Prints one JSON line and appends it to bench/results/micro-raw-events.ndjson.
 */
import { createHash, hash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Compressor } from 'zstd-napi';
import { LineSplitter } from '../../agent/sources/file/line-splitter.js';
import { packageRoot } from '../../shared/paths.js';
import { EventIdScope } from '../../shared/record/event-id.js';
import { RawLogNdjsonWriter, type SerializedRawLogEvent } from '../../shared/record/raw-log-ndjson.js';

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const LINE_BYTES = 200;
const CHUNK_BYTES = 256 * 1024;
const ROUNDS = 5;
const FRAME_BYTES = 1024 * 1024;
const BATCH_BYTES = 56 * 1024;

const fields = { host: 'bench-host', agentId: 'bench', sourceName: 'app', path: '/var/log/app/input.log', fileId: '2049:1234567', labels: undefined };

/** The same lines as the throughput benchmark. */
function input(): Buffer {
  const lines: string[] = [];
  for (let index = 0; index < LINES; index++) {
    const head = `2026-11-23T12:00:00.${String(index % 1000).padStart(3, '0')}Z INFO [worker-${index % 16}] request ${index} GET /api/orders/${index % 9973} status=200 user=u${index % 541} `;
    lines.push(`${head.padEnd(LINE_BYTES - 1, 'x')}\n`);
  }
  return Buffer.from(lines.join(''));
}

/** Best-of-rounds CPU nanoseconds per line of `run`, which processes every line once. */
function measure(run: () => unknown): number {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    best = Math.min(best, ((used.user + used.system) * 1000) / LINES);
  }
  return Math.round(best);
}

/** Feeds `data` through `visit` in read-sized chunks from a buffer of its own, as the tailer does. */
function inChunks(data: Buffer, visit: (chunk: Buffer, offset: number) => void): void {
  const buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  for (let offset = 0; offset < data.length; offset += CHUNK_BYTES) {
    const length = data.copy(buffer, 0, offset, offset + CHUNK_BYTES);
    visit(buffer.subarray(0, length), offset);
  }
}

function legacyEventId(...parts: ReadonlyArray<string | number>): string {
  const digest = createHash('sha256');
  for (const part of parts) {
    digest.update(String(part));
    digest.update('\u0000');
  }
  return digest.digest('hex').slice(0, 32);
}

/** The tailer before: decoded lines, an object per event, JSON.stringify, SHA-256 per id, one string per chunk. */
function buildBefore(data: Buffer, emit: (ndjson: string) => void): void {
  const splitter = new LineSplitter(256 * 1024);
  inChunks(data, (chunk, chunkOffset) => {
    const observedAt = new Date().toISOString();
    const source = { type: 'file' as const, name: fields.sourceName, path: fields.path, file_id: fields.fileId };
    let ndjson = '';
    for (const line of splitter.push(chunk, chunkOffset)) {
      const event: SerializedRawLogEvent = {
        id: legacyEventId(fields.agentId, fields.fileId, line.offset),
        observed_at: observedAt,
        body: line.text,
        host: fields.host,
        agent_id: fields.agentId,
        source: { ...source, offset: line.offset },
      };
      if (line.truncated) event.truncated = true;
      ndjson += `${JSON.stringify(event)}\n`;
    }
    emit(ndjson);
  });
}

/** The tailer now: bytes straight into NDJSON, batches of about 56 KiB. */
function buildAfter(data: Buffer, emit: (ndjson: string) => void): void {
  const splitter = new LineSplitter(256 * 1024);
  const writer = new RawLogNdjsonWriter(fields, new EventIdScope([fields.agentId, fields.fileId]));
  inChunks(data, (chunk, chunkOffset) => {
    writer.startChunk(new Date().toISOString());
    splitter.forEachLine(chunk, chunkOffset, (bytes, start, end, offset, _lineEnd, truncated) => {
      writer.add(bytes, start, end, offset, truncated);
      if (writer.byteLength >= BATCH_BYTES) emit(writer.take());
    });
    if (writer.eventCount > 0) emit(writer.take());
    writer.finishChunk();
  });
}

/** The framer before: byteLength per batch, join per frame, Buffer.from. */
function frameBefore(batches: readonly string[], compress: (body: Buffer) => Buffer): number {
  let parts: string[] = [];
  let bytes = 0;
  let compressed = 0;
  const flush = (): void => {
    compressed += compress(Buffer.from(parts.join(''), 'utf8')).length;
    parts = [];
    bytes = 0;
  };
  for (const batch of batches) {
    const batchBytes = Buffer.byteLength(batch);
    if (bytes + batchBytes > FRAME_BYTES) flush();
    parts.push(batch);
    bytes += batchBytes;
  }
  flush();
  return compressed;
}

/** The framer now: each batch encoded once into a reused frame buffer. */
function frameAfter(batches: readonly string[], compress: (body: Buffer) => Buffer): number {
  const body = Buffer.allocUnsafe(FRAME_BYTES);
  const encoder = new TextEncoder();
  let bytes = 0;
  let compressed = 0;
  for (const batch of batches) {
    let result = encoder.encodeInto(batch, body.subarray(bytes));
    if (result.read < batch.length) {
      compressed += compress(body.subarray(0, bytes)).length;
      bytes = 0;
      result = encoder.encodeInto(batch, body);
    }
    bytes += result.written;
  }
  return compressed + compress(body.subarray(0, bytes)).length;
}

function compressor(level: number): (body: Buffer) => Buffer {
  const zstd = new Compressor();
  zstd.setParameters({ compressionLevel: level });
  return (body) => zstd.compress(body);
}

async function main(): Promise<void> {
  const data = input();
  const idScope = new EventIdScope([fields.agentId, fields.fileId]);
  const idPrefix = `${fields.agentId}\u0000${fields.fileId}\u0000`;
  const idTarget = Buffer.alloc(32);
  const eachOffset = (id: (offset: number) => unknown) => () => {
    for (let offset = 0; offset < LINES * LINE_BYTES; offset += LINE_BYTES) id(offset);
  };
  const before: string[] = [];
  buildBefore(data, (ndjson) => before.push(ndjson));
  const after: string[] = [];
  buildAfter(data, (ndjson) => after.push(ndjson));
  // The pipeline drops each batch once framed; retaining them all here would measure the GC instead.
  let sink = 0;
  const drop = (ndjson: string): void => {
    sink += ndjson.length;
  };
  const noCompression = (body: Buffer): Buffer => body;
  const uncompressedBytes = Buffer.byteLength(after.join(''));
  const level1Bytes = frameAfter(after, compressor(1));
  const level3Bytes = frameAfter(after, compressor(3));

  const result = {
    benchmark: 'micro-raw-events',
    date: new Date().toISOString(),
    lines: LINES,
    line_bytes: LINE_BYTES,
    unit: 'CPU ns per line, best of 5',
    build_before_sha256_object_stringify: measure(() => buildBefore(data, drop)),
    build_after_byte_writer: measure(() => buildAfter(data, drop)),
    id_sha256_create_hash: measure(eachOffset((offset) => legacyEventId(fields.agentId, fields.fileId, offset))),
    id_sha256_one_shot: measure(eachOffset((offset) => hash('sha256', `${idPrefix}${offset}\u0000`, 'hex').slice(0, 32))),
    id_scope_text: measure(eachOffset((offset) => idScope.id(offset))),
    id_scope_bytes: measure(eachOffset((offset) => idScope.write(offset, idTarget, 0))),
    frame_before_join_no_compression: measure(() => frameBefore(before, noCompression)),
    frame_after_encode_into_no_compression: measure(() => frameAfter(after, noCompression)),
    frame_after_zstd_level_1: measure(() => frameAfter(after, compressor(1))),
    frame_after_zstd_level_3: measure(() => frameAfter(after, compressor(3))),
    zstd_ratio_level_1: Number((uncompressedBytes / level1Bytes).toFixed(2)),
    zstd_ratio_level_3: Number((uncompressedBytes / level3Bytes).toFixed(2)),
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    checksum: sink % 1000,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await mkdir(join(packageRoot(), 'bench', 'results'), { recursive: true });
  await appendFile(join(packageRoot(), 'bench', 'results', 'micro-raw-events.ndjson'), `${JSON.stringify(result)}\n`);
}

await main();
