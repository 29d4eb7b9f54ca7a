import { appendFile, copyFile, mkdir, mkdtemp, rename, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka } from '../../deploy/dev/kafka/local-kafka.js';
import type { RawLogEvent } from '../../shared/record/raw-event.js';
import { brokers, collectRawEvents, uniqueName } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * The file source's promise under abuse: several files written fast, rotated
 * both ways logrotate does it (rename+create, copytruncate), and the agent
 * SIGKILLed at random moments and restarted. Every written line must reach the
 * raw topic, and a line delivered twice must carry the same id both times.
 */
const TOTAL_LINES = 500_000;
const FILES = ['rename-a', 'rename-b', 'copytruncate-c', 'copytruncate-d'];
const ROTATE_EVERY = 20_000; // lines per file between rotations
const WRITE_BATCH = 500;
const KILLS = 6;

/** mulberry32: a tiny seeded generator, so the "random" kill moments are the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const lineText = (file: string, sequence: number) => `2026-11-23T12:00:00.000Z ${file} line ${sequence} ${'x'.repeat(sequence % 40)}`;

async function rotate(dir: string, file: string): Promise<void> {
  const path = join(dir, `${file}.log`);
  // Keep two generations, as `rotate 2` would; the oldest is replaced.
  await rename(`${path}.1`, `${path}.2`).catch(() => undefined);
  if (file.startsWith('rename')) {
    await rename(path, `${path}.1`);
    await writeFile(path, '');
  } else {
    // copytruncate: the writer is paused meanwhile, so no line falls between the copy and the truncate.
    await copyFile(path, `${path}.1`);
    await truncate(path, 0);
  }
}

describe('chaos: rotation in both modes while the agent is SIGKILLed repeatedly (real broker)', () => {
  let agent: RunningProcess | undefined;
  afterAll(async () => {
    await agent?.stop('SIGKILL');
  });

  it('loses no line and gives every duplicate the id of its first copy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-chaos-'));
    const logs = join(dir, 'logs');
    await mkdir(logs);
    for (const file of FILES) await writeFile(join(logs, `${file}.log`), '');
    const topic = uniqueName('chaos-raw');
    const port = await freePort();
    const config = await writeYaml(join(dir, 'agent.yaml'), {
      agent: { id: 'chaos', data_dir: join(dir, 'data'), checkpoint_interval: '200ms' },
      kafka: { brokers: brokers() },
      // Rotated generations are included: copytruncate's copy holds lines the agent may not have read yet.
      sources: { app: { type: 'file', include: [join(logs, '*.log'), join(logs, '*.log.1'), join(logs, '*.log.2')], poll_interval: '200ms' } },
      framer: { linger: '50ms' },
      output: { topic, partitions: 4 },
      telemetry: { port },
    });
    const startAgent = async () => {
      agent = startCli('agent', config);
      await waitUntilReady(agent, `http://127.0.0.1:${port}`);
    };
    await startAgent();

    const random = seededRandom(20261123);
    const killAt = new Set(Array.from({ length: KILLS }, (_, index) => Math.floor(((index + random()) / KILLS) * (TOTAL_LINES / WRITE_BATCH))));
    const written = new Map<string, number>(FILES.map((file) => [file, 0]));
    let kills = 0;
    for (let batch = 0; batch < TOTAL_LINES / WRITE_BATCH; batch++) {
      const file = FILES[batch % FILES.length] as string;
      const start = written.get(file) ?? 0;
      let chunk = '';
      for (let sequence = start; sequence < start + WRITE_BATCH; sequence++) chunk += `${lineText(file, sequence)}\n`;
      await appendFile(join(logs, `${file}.log`), chunk);
      written.set(file, start + WRITE_BATCH);
      if ((start + WRITE_BATCH) % ROTATE_EVERY === 0) await rotate(logs, file);
      if (killAt.has(batch)) {
        await agent?.stop('SIGKILL');
        kills++;
        await startAgent();
      }
      // Pace the writer a little so rotations interleave with reading rather than all happening up front.
      if (batch % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(kills).toBe(KILLS);

    const expected = new Set<string>();
    for (const [file, count] of written) for (let sequence = 0; sequence < count; sequence++) expected.add(lineText(file, sequence));
    expect(expected.size).toBe(TOTAL_LINES);

    const seen = new Set<string>();
    let examined = 0;
    const events = await collectRawEvents<RawLogEvent>(
      topic,
      (sofar) => {
        for (; examined < sofar.length; examined++) {
          const body = (sofar[examined] as RawLogEvent).body;
          if (expected.has(body)) seen.add(body);
        }
        return seen.size === expected.size;
      },
      180_000,
    ).catch((error: unknown) => {
      const missing = [...expected].filter((line) => !seen.has(line));
      throw new Error(`${missing.length} lines missing, e.g. ${missing.slice(0, 5).join(' | ')}`, { cause: error });
    });

    const idByBody = new Map<string, string>();
    let duplicates = 0;
    for (const event of events) {
      const first = idByBody.get(event.body);
      if (first === undefined) idByBody.set(event.body, event.id);
      else {
        duplicates++;
        expect(event.id, `duplicate of "${event.body}"`).toBe(first);
      }
    }
    for (const line of expected) expect(idByBody.has(line)).toBe(true);
    process.stderr.write(`[chaos] ${TOTAL_LINES} lines, ${kills} kills, ${events.length} events delivered, ${duplicates} duplicates (same ids)\n`);
  });
});

/**
 * The same promise while the broker itself misbehaves: killed (connections
 * refused) and restarted on the same data, then frozen (SIGSTOP: connections
 * hang). A tiny output buffer keeps the agent far behind the writers, so
 * rotations of both kinds land while a tailer is blocked mid-file waiting for
 * Kafka: the case where copytruncate used to lose lines (issue 13.0). Rotated
 * generations get names of their own and are never deleted, so every line
 * written stays readable and any missing line is the agent's loss.
 * `TRIBUTARY_CHAOS_LONG=1` stretches each phase (about 6x).
 */
const LONG = process.env.TRIBUTARY_CHAOS_LONG === '1';
const PHASE_MS = LONG ? 60_000 : 6_000;
const BROKER_FILES = ['rename-a', 'copytruncate-b'];
const LINES_PER_TICK = 100; // per file
const TICK_MS = 50; // up to 2,000 lines/s per file, about 200 KB/s
const ROTATE_EVERY_TICKS = 40; // a rotation of each file every 2 s, several per outage

describe('chaos: rotation in both modes while the broker is killed, restarted and frozen', () => {
  let kafka: LocalKafka | undefined;
  let agent: RunningProcess | undefined;
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    kafka?.resume();
    await kafka?.stop();
  });

  it(
    'loses no line written during the outages; duplicates carry the id of their first copy',
    async () => {
      // Its own broker: killing or freezing the shared one would stall other test files.
      kafka = await startLocalKafka();
      const broker = kafka;
      const dir = await mkdtemp(join(tmpdir(), 'tributary-broker-chaos-'));
      const logs = join(dir, 'logs');
      await mkdir(logs);
      for (const file of BROKER_FILES) await writeFile(join(logs, `${file}.log`), '');
      const topic = uniqueName('broker-chaos-raw');
      const port = await freePort();
      const config = await writeYaml(join(dir, 'agent.yaml'), {
        agent: { id: 'broker-chaos', data_dir: join(dir, 'data'), checkpoint_interval: '200ms' },
        kafka: { brokers: broker.brokers, request_timeout: '5s', connection_timeout: '2s' },
        sources: { app: { type: 'file', include: [join(logs, '*.log'), join(logs, '*.log.*')], poll_interval: '200ms', rotate_wait: '1s' } },
        framer: { linger: '50ms' },
        // Small: the agent stops reading at once when the broker stops answering, and stays behind the writers.
        output: { topic, partitions: 2, buffer_max_bytes: '64KiB', retry: { max_backoff: '1s' } },
        telemetry: { port },
      });
      agent = startCli('agent', config);
      await waitUntilReady(agent, `http://127.0.0.1:${port}`);

      const written = new Map<string, number>(BROKER_FILES.map((file) => [file, 0]));
      const generation = new Map<string, number>(BROKER_FILES.map((file) => [file, 0]));
      const rotations = { rename: 0, copytruncate: 0 };
      let ticks = 0;
      const rotateOnce = async (file: string) => {
        const path = join(logs, `${file}.log`);
        const next = (generation.get(file) ?? 0) + 1;
        generation.set(file, next);
        if (file.startsWith('rename')) {
          await rename(path, `${path}.${next}`);
          await writeFile(path, '');
          rotations.rename++;
        } else {
          // The writer (this loop) waits meanwhile, so no line falls between the copy and the truncate.
          await copyFile(path, `${path}.${next}`);
          await truncate(path, 0);
          rotations.copytruncate++;
        }
      };
      const writeFor = async (ms: number) => {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          for (const file of BROKER_FILES) {
            const start = written.get(file) ?? 0;
            let chunk = '';
            for (let sequence = start; sequence < start + LINES_PER_TICK; sequence++) chunk += `${lineText(file, sequence)}\n`;
            await appendFile(join(logs, `${file}.log`), chunk);
            written.set(file, start + LINES_PER_TICK);
          }
          ticks++;
          if (ticks % ROTATE_EVERY_TICKS === 0) for (const file of BROKER_FILES) await rotateOnce(file);
          await new Promise((resolve) => setTimeout(resolve, TICK_MS));
        }
      };
      const agentAlive = () => expect(agent?.child.exitCode, `agent exited; stderr:\n${agent?.stderr().slice(-2_000)}`).toBeNull();

      await writeFor(PHASE_MS / 2);
      await broker.kill();
      await writeFor(PHASE_MS);
      agentAlive();
      // The restart takes a while on a loaded machine; the writers keep going meanwhile.
      const restarted = broker.restart();
      const restarting = { done: false };
      void restarted.finally(() => (restarting.done = true));
      while (!restarting.done) await writeFor(TICK_MS * 4);
      await restarted;
      await writeFor(PHASE_MS / 2);
      broker.pause();
      await writeFor(PHASE_MS);
      broker.resume();
      agentAlive();
      await writeFor(PHASE_MS / 2);
      expect(rotations.rename).toBeGreaterThanOrEqual(4);
      expect(rotations.copytruncate).toBeGreaterThanOrEqual(4);

      const expected = new Set<string>();
      for (const [file, count] of written) for (let sequence = 0; sequence < count; sequence++) expected.add(lineText(file, sequence));
      const seen = new Set<string>();
      let examined = 0;
      const events = await collectRawEvents<RawLogEvent>(
        topic,
        (sofar) => {
          for (; examined < sofar.length; examined++) {
            const body = (sofar[examined] as RawLogEvent).body;
            if (expected.has(body)) seen.add(body);
          }
          return seen.size === expected.size;
        },
        LONG ? 600_000 : 120_000,
        broker.brokers,
      ).catch((error: unknown) => {
        const missing = [...expected].filter((line) => !seen.has(line));
        throw new Error(`${missing.length} of ${expected.size} lines missing, e.g. ${missing.slice(0, 5).join(' | ')}`, { cause: error });
      });
      agentAlive();

      const idByBody = new Map<string, string>();
      let duplicates = 0;
      const wrongIds: string[] = [];
      const strangers: string[] = [];
      for (const event of events) {
        if (!expected.has(event.body)) strangers.push(event.body.slice(0, 120));
        const first = idByBody.get(event.body);
        if (first === undefined) idByBody.set(event.body, event.id);
        else {
          duplicates++;
          if (event.id !== first) wrongIds.push(event.body);
        }
      }
      expect(strangers, 'lines nobody wrote (spliced from two generations?)').toEqual([]);
      expect(wrongIds, 'duplicates with an id other than their first copy').toEqual([]);
      expect(idByBody.size).toBe(expected.size);
      process.stderr.write(
        `[broker chaos] ${expected.size} lines, ${rotations.rename} renames and ${rotations.copytruncate} copytruncates, broker killed+restarted and frozen; ` +
          `${events.length} events delivered, ${duplicates} duplicates (same ids)\n`,
      );
    },
    LONG ? 1_800_000 : 600_000,
  );
});
