import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { LogRecord } from '../../shared/record/log-record.js';
import { packageRoot } from '../../shared/paths.js';
import { freePort } from '../../shared/test-support/ports.js';
import { bodiesInTopic, checkpointOffsets } from '../../test/helpers/agent-run.js';
import { brokers, messageCount, readTopic, uniqueName, waitFor } from '../../test/helpers/kafka.js';

/*
 * The container image, built from deploy/container/Containerfile with buildah and run with buildah (`--isolation
 * chroot`: the one runtime this sandbox allows; it shares the host's network, so the test's broker on 127.0.0.1
 * is reachable as a broker on the host network is from a pod). Each process runs as the image's user with the
 * image's entrypoint, as PID 1 of its own PID namespace (unshare), where the kernel gives SIGTERM no default
 * action: only the process's own handler can make it drain and exit.
 *
 * No registry is reachable here, so the base image is assembled by deploy/container/build-base-image.sh (minutes,
 * once; cached under ~/.cache/tributary) and passed as BASE_IMAGE; buildah's layer cache keeps the toolchain and
 * `npm ci` layers between runs.
 */

const run = promisify(execFile);
const ROOT = packageRoot();
const IMAGE = 'localhost/tributary:test';
const APP_USER_ID = 10001;
const LINES = 3000;

interface ImageConfig {
  entrypoint: string[];
  user: string;
}

interface ContainerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** The process's PID on the host (it is PID 1 inside its namespace). */
  hostPid: () => Promise<number>;
}

const containers: string[] = [];
const processes: ChildProcess[] = [];
/** Command-line markers of the processes started in the image, to kill what a failed test left running. */
const markers: string[] = [];

/** Runs the image's entrypoint with `args`, as the image's user, as PID 1 of a fresh PID namespace. */
async function runInImage(image: ImageConfig, args: string[], mounts: Record<string, string>, marker: string): Promise<ContainerProcess> {
  markers.push(marker);
  const { stdout } = await run('buildah', ['from', '--quiet', '--name', uniqueName('tributary-test'), IMAGE]);
  const container = stdout.trim();
  containers.push(container);
  const [uid, gid = uid] = image.user.split(':');
  const volumes = Object.entries(mounts).flatMap(([host, inside]) => ['-v', `${host}:${inside}`]);
  // unshare needs CAP_SYS_ADMIN for the new PID namespace, so it starts as root; setpriv then becomes the image's
  // user before exec'ing the entrypoint, which thus runs unprivileged, as PID 1.
  const child = spawn(
    'buildah',
    [
      'run',
      '--isolation',
      'chroot',
      '--user',
      '0:0',
      '--cap-add',
      'CAP_SYS_ADMIN',
      ...volumes,
      container,
      '--',
      'unshare',
      '--pid',
      '--fork',
      '--mount-proc',
      'setpriv',
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--clear-groups',
      ...image.entrypoint,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  processes.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    hostPid: () => waitFor(`the process with ${marker} as PID 1 of its namespace`, () => namespaceInitPid(marker), 30_000, 200),
  };
}

/** The host PID of a process whose command line holds `marker` and which is PID 1 of its PID namespace. */
async function namespaceInitPid(marker: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes(marker)) continue;
      const nsPids = /^NSpid:\s+(.+)$/m
        .exec(await readFile(`/proc/${entry}/status`, 'utf8'))?.[1]
        ?.trim()
        .split(/\s+/);
      if (nsPids && nsPids.length > 1 && nsPids[nsPids.length - 1] === '1') return Number(entry);
    } catch {
      // The process ended between readdir and read.
    }
  }
  return undefined;
}

async function readyz(port: number): Promise<true | undefined> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined;
  } catch {
    return undefined;
  }
}

/** A directory the image's user can write (the test runs as root; the processes in the image do not). */
async function userDir(parent: string, name: string): Promise<string> {
  const dir = join(parent, name);
  await mkdir(dir, { recursive: true });
  if (process.getuid?.() === 0) await chown(dir, APP_USER_ID, APP_USER_ID);
  else await chmod(dir, 0o777);
  return dir;
}

describe('the container image (buildah, chroot isolation)', () => {
  let image: ImageConfig;
  let scratch: string;
  const rawTopic = uniqueName('image-raw');
  const logsTopic = uniqueName('image-logs');
  const expectedLines: string[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tributary-image-'));
    await chmod(scratch, 0o755);
    const started = Date.now();
    const base = (await run('bash', [join(ROOT, 'deploy', 'container', 'build-base-image.sh')], { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
    const baseSeconds = (Date.now() - started) / 1000;
    // Behind a TLS-intercepting proxy (this machine), npm in the build needs the host's CA bundle.
    const caBundle = process.env.NODE_EXTRA_CA_CERTS;
    const secret = caBundle && existsSync(caBundle) ? ['--secret', `id=ca-certificates,src=${caBundle}`] : [];
    await run(
      'buildah',
      [
        'bud',
        '--isolation',
        'chroot',
        '--layers',
        ...secret,
        '--build-arg',
        `BASE_IMAGE=${base}`,
        '-f',
        join(ROOT, 'deploy', 'container', 'Containerfile'),
        '-t',
        IMAGE,
        ROOT,
      ],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    const { stdout } = await run('buildah', ['inspect', '--type', 'image', IMAGE], { maxBuffer: 64 * 1024 * 1024 });
    const config = (JSON.parse(stdout) as { OCIv1: { config: { Entrypoint: string[]; User: string } } }).OCIv1.config;
    image = { entrypoint: config.Entrypoint, user: config.User };
    process.stderr.write(
      `[image test] base ${base} in ${baseSeconds.toFixed(1)} s, image built in ${((Date.now() - started) / 1000 - baseSeconds).toFixed(1)} s\n`,
    );
  }, 1_800_000);

  afterAll(async () => {
    // Killing a PID namespace's init ends everything in it; buildah run then exits on its own.
    for (const marker of markers) {
      const pid = await namespaceInitPid(marker);
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    }
    for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const container of containers) await run('buildah', ['rm', container]).catch(() => undefined);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs as a non-root user with the entrypoint every Kubernetes manifest relies on', () => {
    expect(image).toEqual({ entrypoint: ['node', '--max-semi-space-size=4', '/opt/tributary/dist/cli/tributary.js'], user: '10001:10001' });
  });

  it('the agent as a sidecar ships every line an application writes into a shared directory, and drains on SIGTERM as PID 1', async () => {
    const logDir = join(scratch, 'app-logs');
    await mkdir(logDir);
    await chmod(logDir, 0o755);
    const dataDir = await userDir(scratch, 'agent-state');
    const configDir = join(scratch, 'agent-config');
    await mkdir(configDir);
    const port = await freePort();
    // A unique file name: the test finds the process by it.
    const configName = `${uniqueName('agent')}.yaml`;
    await writeFile(
      join(configDir, configName),
      stringify({
        agent: { id: 'image-sidecar', host_name: 'image-test-node', data_dir: '/var/lib/tributary', checkpoint_interval: '200ms', shutdown_timeout: '20s' },
        kafka: { brokers: brokers() },
        sources: { app: { type: 'file', include: ['/var/log/app/*.log'], poll_interval: '200ms' } },
        output: { topic: rawTopic, partitions: 2 },
        telemetry: { listen_address: '127.0.0.1', port },
      }),
    );
    await chmod(join(configDir, configName), 0o644);
    const agent = await runInImage(
      image,
      ['agent', '--config', `/etc/tributary/${configName}`],
      { [logDir]: '/var/log/app:ro', [dataDir]: '/var/lib/tributary', [configDir]: '/etc/tributary:ro' },
      configName,
    );
    await waitFor('the agent in the image to be ready', () => readyz(port), 90_000, 250).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${agent.output()}`);
    });

    // The application: a separate process appending lines in bursts while the agent tails.
    for (let index = 0; index < LINES; index++) expectedLines.push(`2026-12-07T20:00:00.000Z INFO order ${index} placed by customer ${(index * 7919) % 1000}`);
    const source = join(scratch, 'application-lines.txt');
    await writeFile(source, expectedLines.map((line) => `${line}\n`).join(''));
    const application = spawn(
      process.execPath,
      [
        '-e',
        `const { appendFileSync, readFileSync } = require('node:fs');
         const lines = readFileSync(process.argv[1], 'utf8').split('\\n').slice(0, -1);
         let next = 0;
         const burst = () => {
           appendFileSync(process.argv[2], lines.slice(next, next + 100).map((line) => line + '\\n').join(''));
           next += 100;
           if (next < lines.length) setTimeout(burst, 20);
         };
         burst();`,
        source,
        join(logDir, 'shop.log'),
      ],
      { stdio: 'inherit' },
    );
    processes.push(application);
    expect(await new Promise((resolve) => application.once('exit', resolve))).toBe(0);

    const bodies = await waitFor(
      `${LINES} lines in ${rawTopic}`,
      async () => {
        const found = await bodiesInTopic(rawTopic);
        return found.length >= LINES ? found : undefined;
      },
      120_000,
      1_000,
    );
    expect(bodies.length).toBe(LINES);
    expect([...bodies].sort()).toEqual([...expectedLines].sort());

    process.kill(await agent.hostPid(), 'SIGTERM');
    expect(await agent.exited).toBe(0);
    // The drain wrote the checkpoint of everything delivered: the whole file.
    const offsets = await checkpointOffsets(dataDir).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}; ${dataDir} holds ${(await readdir(dataDir)).join(', ')}\n${agent.output()}`);
    });
    expect(offsets.get('/var/log/app/shop.log')).toBe((await stat(join(logDir, 'shop.log'))).size);
  });

  it('the collector consumes the raw topic and publishes every line normalized, and drains on SIGTERM as PID 1', async () => {
    const configDir = join(scratch, 'collector-config');
    await mkdir(configDir);
    const port = await freePort();
    const configName = `${uniqueName('collector')}.yaml`;
    await writeFile(
      join(configDir, configName),
      stringify({
        collector: { group_id: uniqueName('image-collector'), shutdown_timeout: '20s' },
        kafka: { brokers: brokers() },
        input: { topics: [rawTopic] },
        outputs: { normalized: { type: 'kafka_topics', logs_topic: logsTopic } },
        dead_letter: { topic: uniqueName('image-dlq') },
        telemetry: { listen_address: '127.0.0.1', port },
      }),
    );
    await chmod(join(configDir, configName), 0o644);
    const collector = await runInImage(image, ['collector', '--config', `/etc/tributary/${configName}`], { [configDir]: '/etc/tributary:ro' }, configName);
    await waitFor('the collector in the image to be ready', () => readyz(port), 90_000, 250).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${collector.output()}`);
    });
    await waitFor(`${LINES} records in ${logsTopic}`, async () => ((await messageCount(logsTopic).catch(() => 0)) >= LINES ? true : undefined), 120_000, 1_000);

    process.kill(await collector.hostPid(), 'SIGTERM');
    expect(await collector.exited).toBe(0);
    expect(await messageCount(logsTopic)).toBe(LINES);
    const records = (await readTopic(logsTopic, LINES)).map((message) => JSON.parse(message.value.toString()) as LogRecord);
    expect(records.map((record) => record.body).sort()).toEqual([...expectedLines].sort());
    expect(new Set(records.map((record) => record.resource['host.name']))).toEqual(new Set(['image-test-node']));
  });
});
