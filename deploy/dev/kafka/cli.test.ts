import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/config/load.js';
import { createKafkaClient } from '../../../shared/kafka/client.js';
import { kafkaConnectionSchema } from '../../../shared/kafka/config.js';
import { packageRoot } from '../../../shared/paths.js';
import { silentLogger } from '../../../shared/telemetry/logger.js';

const SECURE_LINES = [
  'KAFKA_BROKERS',
  'KAFKA_SASL_SSL_BROKERS',
  'KAFKA_MTLS_BROKERS',
  'KAFKA_CA_FILE',
  'KAFKA_CLIENT_CERT_FILE',
  'KAFKA_CLIENT_KEY_FILE',
  'KAFKA_SASL_MECHANISMS',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_OAUTHBEARER_TOKEN',
];

describe('npm run kafka -- --secure (the built CLI)', () => {
  it(
    'prints the usual first line, then shell-safe NAME=value lines a client connects with; SIGTERM exits 0 and removes the certificates',
    { timeout: 180_000 },
    async () => {
      const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'deploy', 'dev', 'kafka', 'cli.js'), '--secure'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const dir = await mkdtemp(join(tmpdir(), 'tributary-kafka-cli-'));
      try {
        const lines: string[] = [];
        const lineReader = createInterface({ input: child.stdout });
        await new Promise<void>((resolve, reject) => {
          lineReader.on('line', (line) => {
            if (lines.push(line) === SECURE_LINES.length) resolve();
          });
          void exited.then((code) => reject(new Error(`exited with ${String(code)} after ${lines.length} lines:\n${stderr}`)));
        });
        const vars = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
        expect(Object.keys(vars)).toEqual(SECURE_LINES);
        expect(vars.KAFKA_BROKERS).toMatch(/^127\.0\.0\.1:\d+$/);
        // Nothing a shell would interpret: `eval "$(npm run -s kafka -- --secure)"` needs no quoting.
        for (const line of lines) expect(line).toMatch(/^[A-Z_]+=[A-Za-z0-9_.,:/+-]+$/);
        expect(vars.KAFKA_SASL_MECHANISMS).toBe('scram-sha-256,scram-sha-512,plain,oauthbearer');

        const tokenFile = join(dir, 'token');
        await writeFile(tokenFile, vars.KAFKA_OAUTHBEARER_TOKEN ?? '');
        const connect = (connection: Record<string, unknown>) =>
          createKafkaClient(validateConfig(kafkaConnectionSchema, connection, 'cli.test'), silentLogger(), 'cli-test').topicAdmin();
        const tls = { enabled: true, ca_file: vars.KAFKA_CA_FILE };
        const saslSsl = (vars.KAFKA_SASL_SSL_BROKERS ?? '').split(',');
        expect(
          await connect({ brokers: saslSsl, tls, sasl: { mechanism: 'oauthbearer', token_file: tokenFile } }).ensureTopics([
            { topic: 'cli-oauth', partitions: 1 },
          ]),
        ).toEqual(['cli-oauth']);
        const scram = { mechanism: 'scram-sha-256', username: vars.KAFKA_SASL_USERNAME, password: vars.KAFKA_SASL_PASSWORD };
        expect(await connect({ brokers: saslSsl, tls, sasl: scram }).ensureTopics([{ topic: 'cli-scram', partitions: 1 }])).toEqual(['cli-scram']);
        const mtls = { ...tls, cert_file: vars.KAFKA_CLIENT_CERT_FILE, key_file: vars.KAFKA_CLIENT_KEY_FILE };
        expect(await connect({ brokers: (vars.KAFKA_MTLS_BROKERS ?? '').split(','), tls: mtls }).ensureTopics([{ topic: 'cli-mtls', partitions: 1 }])).toEqual([
          'cli-mtls',
        ]);

        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(existsSync(dirname(vars.KAFKA_CA_FILE ?? '/'))).toBe(false);
      } finally {
        // SIGTERM, not SIGKILL: the CLI must stop its JVM (own process group) and remove the temp dir.
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
