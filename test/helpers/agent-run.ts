import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from '../../agent/agent.js';
import { agentConfigSchema } from '../../agent/config.js';
import { validateConfig } from '../../shared/config/load.js';
import type { RawLogEvent } from '../../shared/record/raw-event.js';
import { silentLogger } from '../../shared/telemetry/logger.js';
import { messageCount, readTopic } from './kafka.js';
import { decodeFrame } from '../../shared/frame/frame-codec.js';

/** An agent in this process tailing `logDir/*.log` into `topic`; `overrides` are merged into its config. */
export function fileAgent(options: { brokers: string[]; topic: string; logDir: string; dataDir: string; output?: Record<string, unknown> }): Agent {
  const config = validateConfig(
    agentConfigSchema,
    {
      agent: { id: 'limits-test', data_dir: options.dataDir, checkpoint_interval: '200ms' },
      kafka: { brokers: options.brokers, request_timeout: '5s', connection_timeout: '3s' },
      sources: { app: { type: 'file', include: [join(options.logDir, '*.log')], poll_interval: '100ms' } },
      output: { topic: options.topic, retry: { max_backoff: '1s' }, ...options.output },
      telemetry: { port: 0, listen_address: '127.0.0.1' },
    },
    'test agent config',
  );
  return new Agent(config, silentLogger());
}

/**
 * Writes `lines` lines over `files` files (`<prefix>-N.log`), each line unique and half incompressible, so frames
 * compress to about half their size and their sizes vary. Returns every line, in no particular order.
 */
export async function writeLogFiles(logDir: string, files: number, lines: number, prefix = 'file'): Promise<{ paths: string[]; lines: Set<string> }> {
  const all = new Set<string>();
  const paths: string[] = [];
  for (let file = 0; file < files; file++) {
    const parts: string[] = [];
    for (let index = file; index < lines; index += files) {
      const line = `2026-12-07T06:00:00.000Z ${prefix} line ${index} ${randomBytes(24).toString('hex')} ${'x'.repeat(index % 97)}`;
      all.add(line);
      parts.push(`${line}\n`);
    }
    const path = join(logDir, `${prefix}-${file}.log`);
    await writeFile(path, parts.join(''));
    paths.push(path);
  }
  return { paths, lines: all };
}

/** Checkpointed offsets by file path, as the agent wrote them. */
export async function checkpointOffsets(dataDir: string): Promise<Map<string, number>> {
  const parsed = JSON.parse(await readFile(join(dataDir, 'checkpoints.json'), 'utf8')) as { files: Record<string, { path: string; offset: number }> };
  return new Map(Object.values(parsed.files).map((entry) => [entry.path, entry.offset]));
}

/** True when every file's checkpoint is at its end. */
export async function checkpointsAtEnd(dataDir: string, paths: readonly string[]): Promise<boolean> {
  let offsets: Map<string, number>;
  try {
    offsets = await checkpointOffsets(dataDir);
  } catch {
    return false;
  }
  for (const path of paths) if (offsets.get(path) !== (await stat(path)).size) return false;
  return true;
}

/** Every line body in the topic now, one entry per event (duplicates kept). */
export async function bodiesInTopic(topic: string, brokers?: string[]): Promise<string[]> {
  const count = await messageCount(topic, brokers);
  const messages = await readTopic(topic, count, 120_000, brokers);
  return messages.flatMap((message) => (decodeFrame(message.value, message.headers).events as RawLogEvent[]).map((event) => event.body));
}
