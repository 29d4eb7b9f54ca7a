import { appendFile, copyFile, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka, type LocalKafkaSecurity } from '../../deploy/dev/kafka/local-kafka.js';
import { makeSecureMaterial } from '../../deploy/dev/kafka/secure.js';
import { bodiesInTopic, checkpointsAtEnd } from '../helpers/agent-run.js';
import { uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

/**
 * The built agent on the broker's mTLS listener while its `kafka.tls` files are rotated to a new CA and a new
 * client certificate: a half-finished renewal (new certificate, old key) is not loaded, the complete one is; the
 * broker then restarts trusting and presenting only the new CA, so every new connection needs the new files,
 * and without a restart of the agent every line, from before and after, arrives exactly once.
 */
const LINES_PER_BATCH = 300;

function lineText(index: number): string {
  return `2026-12-07T20:00:00.000Z INFO rotation request ${index} GET /api/items/${index}`;
}

/** Replaces `to` the way a secret mount or cert-manager does: a complete new file, renamed into place. */
async function replaceFile(from: string, to: string): Promise<void> {
  await copyFile(from, `${to}.new`);
  await rename(`${to}.new`, to);
}

/** Whether a client with these PEM files completes an mTLS handshake with the broker now. */
function handshakes(broker: string, files: { ca: string; cert: string; key: string }): Promise<boolean> {
  const [host, port] = broker.split(':') as [string, string];
  return Promise.all([readFile(files.ca), readFile(files.cert), readFile(files.key)]).then(
    ([ca, cert, key]) =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host, port: Number(port), ca, cert, key }, () => {
          // TLS 1.3 reports a refused client certificate only after the handshake: wait for the broker's verdict.
          socket.once('error', () => resolve(false));
          setTimeout(() => {
            resolve(!socket.destroyed);
            socket.destroy();
          }, 500);
        });
        socket.once('error', () => resolve(false));
      }),
  );
}

describe('agent on mTLS while its kafka.tls files are rotated (real processes)', () => {
  let kafka: LocalKafka | undefined;
  let dir: string;
  let agent: RunningProcess | undefined;

  beforeAll(async () => {
    kafka = await startLocalKafka({ secure: true });
    dir = await mkdtemp(join(tmpdir(), 'tributary-e2e-kafka-tls-'));
  });

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await kafka?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads a complete renewal, not a half-finished one, and new connections use it: every line arrives once', async () => {
    const broker = kafka as LocalKafka;
    const security = broker.security as LocalKafkaSecurity;
    const mounted = { ca: join(dir, 'mounted', 'ca.pem'), cert: join(dir, 'mounted', 'client.pem'), key: join(dir, 'mounted', 'client.key') };
    await mkdir(join(dir, 'mounted'));
    await copyFile(security.caFile, mounted.ca);
    await copyFile(security.clientCertFile, mounted.cert);
    await copyFile(security.clientKeyFile, mounted.key);
    const logFile = join(dir, 'logs', 'app.log');
    await mkdir(join(dir, 'logs'));
    await appendFile(logFile, '');
    const dataDir = join(dir, 'agent-data');
    const topic = uniqueName('rotation-raw');
    const port = await freePort();
    agent = startCli(
      'agent',
      await writeYaml(join(dir, 'agent.yaml'), {
        agent: { id: 'rotation-agent', data_dir: dataDir, checkpoint_interval: '200ms' },
        kafka: {
          brokers: security.mtlsBrokers,
          tls: { enabled: true, ca_file: mounted.ca, cert_file: mounted.cert, key_file: mounted.key, reload_interval: '200ms' },
        },
        sources: { app: { type: 'file', include: [logFile], poll_interval: '100ms' } },
        framer: { linger: '50ms' },
        output: { topic, partitions: 1, retry: { max_backoff: '1s' } },
        telemetry: { port },
      }),
    );
    await waitUntilReady(agent, `http://127.0.0.1:${port}`);
    const appendBatch = (batch: number) =>
      appendFile(logFile, Array.from({ length: LINES_PER_BATCH }, (_, index) => `${lineText(batch * LINES_PER_BATCH + index)}\n`).join(''));
    await appendBatch(0);
    await waitFor('the first batch acknowledged', async () => ((await checkpointsAtEnd(dataDir, [logFile])) ? true : undefined), 60_000);

    // A new CA with a new broker and client certificate; the broker's stores keep its password.
    const properties = await readFile(join(broker.dataDir, 'server.properties'), 'utf8');
    const storePassword = /^ssl\.keystore\.password=(.*)$/m.exec(properties)?.[1] as string;
    const renewed = await makeSecureMaterial(join(dir, 'renewed'), storePassword);

    // Half-finished: the new certificate beside the old key is not loaded, and said once.
    await replaceFile(renewed.clientCertFile, mounted.cert);
    const refusedLine = '"msg":"Kafka TLS files changed but cannot be loaded; new connections keep the previous ones"';
    await waitFor('the half-finished renewal refused', () => (agent?.stderr().includes(refusedLine) ? true : undefined), 30_000);
    // Complete: key and CA follow, and the set is loaded.
    await replaceFile(renewed.clientKeyFile, mounted.key);
    await replaceFile(renewed.caFile, mounted.ca);
    const reloadedLine = '"msg":"Kafka TLS files reloaded; new connections use them"';
    await waitFor('the renewal loaded', () => (agent?.stderr().includes(reloadedLine) ? true : undefined), 30_000);
    expect(
      agent
        .stderr()
        .split('\n')
        .filter((line) => line.includes(refusedLine)),
    ).toHaveLength(1);

    // The broker restarts with the new CA only: every connection from now on is new and needs the new files.
    await broker.kill();
    await copyFile(renewed.keystoreFile, join(broker.dataDir, 'tls', 'broker.keystore.p12'));
    await copyFile(renewed.truststoreFile, join(broker.dataDir, 'tls', 'broker.truststore.p12'));
    await broker.restart();
    const [mtlsBroker] = security.mtlsBrokers as [string];
    expect(await handshakes(mtlsBroker, { ca: security.caFile, cert: security.clientCertFile, key: security.clientKeyFile })).toBe(false);
    expect(await handshakes(mtlsBroker, mounted)).toBe(true);

    await appendBatch(1);
    await waitFor('the second batch acknowledged', async () => ((await checkpointsAtEnd(dataDir, [logFile])) ? true : undefined), 90_000);
    const bodies = await bodiesInTopic(topic, broker.brokers);
    expect(bodies).toEqual(Array.from({ length: 2 * LINES_PER_BATCH }, (_, index) => lineText(index)));
    expect(agent.child.exitCode).toBeNull();
    expect(await agent.stop('SIGTERM')).toBe(0);
  });
});
