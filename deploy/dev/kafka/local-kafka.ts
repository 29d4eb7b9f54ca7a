/**
 * A real single-node Kafka (KRaft, broker + controller in one JVM) on demand,
 * for development and integration tests, run straight from Maven Central jars:
 * no Docker, no Kafka tarball.
 *
 *   const kafka = await startLocalKafka();
 *   // ... new Kafka({ brokers: kafka.brokers }) ...
 *   await kafka.stop();
 *
 * The jars come from deploy/dev/kafka/pom.xml; their classpath is resolved by
 * Maven once per Kafka version (and pom content) and cached under cacheDir.
 * Every broker gets its own temp dir and its own ports, so any number of them
 * may run side by side, from one process or several.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { packageRoot } from '../../../shared/paths.js';
import { JvmStartError, awaitReady, describeProbeError, spawnJvm, type JvmProcess } from '../jvm/jvm-process.js';
import {
  DEFAULT_START_TIMEOUT_MS,
  manageLocalServer,
  startInOwnedTempDir,
  type LocalServerOptions,
  type RestartableServerControls,
} from '../jvm/local-server.js';
import { defaultCacheDir, isMavenVersion, resolveMavenClasspath } from '../jvm/maven-classpath.js';
import { pickFreePort, releasePorts } from '../jvm/ports.js';
import { jdkTool, runProcess } from '../jvm/run-process.js';
import { makeSecureMaterial, scramFormatArgs, secureProperties, securityOf, type LocalKafkaSecurity, type SecureMaterial, type SecurePorts } from './secure.js';

export type { LocalKafkaSecurity } from './secure.js';
export { unsecuredJwt } from './secure.js';

/** startTimeoutMs bounds formatting the storage too. */
export interface LocalKafkaOptions extends LocalServerOptions {
  /** Kafka version (kafka_2.13 on Maven Central). Default: $KAFKA_VERSION ?? '4.4.0'. */
  version?: string;
  /** Client (PLAINTEXT) port; 0 or undefined picks a free one. */
  port?: number;
  /** JVM heap (-Xms = -Xmx). Default 512. */
  heapMb?: number;
  /**
   * Adds secured listeners beside PLAINTEXT (see secure.ts): SASL_SSL with SCRAM-SHA-256/512, PLAIN and
   * OAUTHBEARER, and SSL requiring client certificates, with a per-run CA. Default false.
   */
  secure?: boolean;
  /**
   * With `secure`: turns on KRaft's StandardAuthorizer, so a client may do only what ACLs allow (see acls.ts).
   * The PLAINTEXT and CONTROLLER listeners' principal, `User:ANONYMOUS`, is a super user: the broker talks to
   * its own controller through them, and tests create ACLs and check results through PLAINTEXT. Default false.
   */
  authorizer?: boolean;
}

export interface LocalKafka extends RestartableServerControls {
  readonly brokers: string[];
  readonly version: string;
  readonly port: number;
  /** The broker's own temp dir: server.properties, server.log, kraft-logs/ (and tls/ when secure). Removed by stop(). */
  readonly dataDir: string;
  /** What a client needs for the secured listeners; only with `secure: true`. */
  readonly security?: LocalKafkaSecurity;
  /** Whether the broker authorizes requests by ACLs (`authorizer: true`); PLAINTEXT stays a super user. */
  readonly authorizer: boolean;
}

const DEFAULT_VERSION = '4.4.0';
const DEFAULT_HEAP_MB = 512;
const PORT_ATTEMPTS = 3;
const TEMP_PREFIX = 'tributary-kafka-';

export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const version = options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_VERSION;
  if (!isMavenVersion(version)) throw new Error(`not a Kafka version: ${JSON.stringify(version)}`);
  // Without the secured listeners every client is ANONYMOUS, the super user: an authorizer would prove nothing.
  if (options.authorizer === true && options.secure !== true) throw new Error('authorizer: true needs secure: true');
  const heapMb = options.heapMb ?? DEFAULT_HEAP_MB;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const requestedPort = options.port ?? 0;
  const kafkaDir = path.join(packageRoot(), 'deploy', 'dev', 'kafka');

  const classpath = await resolveMavenClasspath({
    pom: path.join(kafkaDir, 'pom.xml'),
    versionDir: path.join(cacheDir, `kafka-${version}`),
    properties: { 'kafka.version': version },
    artifact: `org.apache.kafka:kafka_2.13:${version}`,
    // All kafka_2.13 releases up to 4.4.0 use slf4j 1.7; should one move to
    // slf4j 2.x, the 1.7 binding would be silently ignored and the broker mute.
    reresolve: (resolved) =>
      /[\\/]slf4j-api-2\.[^\\/]*\.jar$/m.test(resolved.split(path.delimiter).join('\n')) ? ['-Dslf4j.binding=log4j-slf4j2-impl'] : undefined,
  });

  return startInOwnedTempDir(TEMP_PREFIX, async (dataDir) => {
    const deadline = Date.now() + startTimeoutMs;
    const material = options.secure === true ? await makeSecureMaterial(dataDir) : undefined;
    // A picked port can be taken by someone else before the JVM binds it; only
    // then is a new pair of ports worth a retry. A fixed port is not retried.
    const attempts = requestedPort === 0 ? PORT_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      const port = requestedPort === 0 ? await pickFreePort() : requestedPort;
      const controllerPort = await pickFreePort();
      const reserved = requestedPort === 0 ? [port, controllerPort] : [controllerPort];
      let secure: LaunchSpec['secure'];
      if (material !== undefined) {
        secure = { material, ports: { saslSslPort: await pickFreePort(), mtlsPort: await pickFreePort() } };
        reserved.push(secure.ports.saslSslPort, secure.ports.mtlsPort);
      }
      try {
        return await launchBroker({
          version,
          heapMb,
          classpath,
          kafkaDir,
          dataDir,
          port,
          controllerPort,
          reserved,
          deadline,
          onLog: options.onLog,
          secure,
          authorizer: options.authorizer === true,
        });
      } catch (error) {
        releasePorts(reserved);
        if (attempt >= attempts || !(error instanceof JvmStartError && error.portInUse)) throw error;
      }
    }
  });
}

// ---------------------------------------------------------------------------
// One attempt: format, spawn, wait until a real request succeeds.

interface LaunchSpec {
  version: string;
  heapMb: number;
  classpath: string;
  kafkaDir: string;
  dataDir: string;
  port: number;
  controllerPort: number;
  /** Ports this process reserved for the broker, released when it stops. */
  reserved: number[];
  deadline: number;
  onLog: ((line: string) => void) | undefined;
  secure: { material: SecureMaterial; ports: SecurePorts } | undefined;
  authorizer: boolean;
}

async function launchBroker(spec: LaunchSpec): Promise<LocalKafka> {
  const { dataDir } = spec;
  const logDirs = path.join(dataDir, 'kraft-logs');
  const logFile = path.join(dataDir, 'server.log');
  // A previous attempt may have formatted with other ports; start clean.
  await fs.rm(logDirs, { recursive: true, force: true });
  await fs.rm(logFile, { force: true });

  const propertiesFile = path.join(dataDir, 'server.properties');
  // The file holds the keystore password and PLAIN users' passwords when secure: owner-only.
  await fs.writeFile(propertiesFile, serverProperties(spec, logDirs), { mode: 0o600 });

  const clusterId = newClusterId();
  const jvmCommon = jvmCommonArgs(spec);

  const format = await runProcess(
    jdkTool('java'),
    // The formatter is a short-lived tool: C1 only and a small heap start it faster.
    [
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      ...jvmCommon,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      propertiesFile,
      '--ignore-formatted',
      ...(spec.secure ? scramFormatArgs(spec.secure.material) : []),
    ],
    spec.deadline,
  );
  if (format.code !== 0) {
    throw new JvmStartError(`kafka.tools.StorageTool format exited with ${format.code}:\n${format.output}`, false);
  }

  const jvm = await spawnReady(spec, clusterId, spec.deadline);
  return makeHandle(jvm, spec, clusterId);
}

function jvmCommonArgs(spec: LaunchSpec): string[] {
  return [
    '-cp',
    spec.classpath,
    `-Dlog4j2.configurationFile=${path.join(spec.kafkaDir, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${spec.dataDir}`,
    '-Djava.awt.headless=true',
  ];
}

/** Starts the broker JVM on storage already formatted with `clusterId` and waits until it serves. */
async function spawnReady(spec: LaunchSpec, clusterId: string, deadline: number): Promise<JvmProcess> {
  const { dataDir, port, controllerPort } = spec;
  const jvm = await spawnJvm({
    dir: dataDir,
    args: [
      `-Xmx${spec.heapMb}m`,
      `-Xms${spec.heapMb}m`,
      '-XX:+ExitOnOutOfMemoryError',
      ...jvmCommonArgs(spec),
      'kafka.Kafka',
      path.join(dataDir, 'server.properties'),
    ],
    onLog: spec.onLog,
  });
  const brokers = [`127.0.0.1:${port}`];
  const probeState: ProbeState = { controllerServing: false };
  await awaitReady(jvm, {
    name: `Kafka ${spec.version} on ${brokers.join(',')} (controller port ${controllerPort})`,
    deadline,
    probe: () => probeBroker(brokers, clusterId, probeState),
    logFile: path.join(dataDir, 'server.log'),
    portInUse: (output, logTail) => /Address already in use|BindException/.test(output + logTail),
  });
  return jvm;
}

/** What the readiness probe has proven so far; each poll only checks what is still open. */
interface ProbeState {
  controllerServing: boolean;
}

/**
 * Readiness is a real round trip: describeCluster proves the broker answers
 * (and that it is OUR broker: the cluster id is the one we formatted with, not
 * some other process that grabbed the port), create+delete of a probe topic
 * proves the controller is serving. Last, a group lookup makes the broker
 * create and load __consumer_offsets now, so the first consumer of a test
 * does not crash-and-restart on "coordinator is loading".
 * Returns the cluster id or why not.
 */
async function probeBroker(brokers: string[], clusterId: string, state: ProbeState): Promise<{ clusterId: string } | string> {
  const admin = new Kafka({
    clientId: 'tributary-local-kafka-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1_000,
    requestTimeout: 10_000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.clusterId !== clusterId) return `cluster id ${cluster.clusterId} is not ours (${clusterId})`;
    if (!state.controllerServing) {
      // Unique per probe: a probe that failed half-way must not make the next one see "already exists".
      const topic = `__tributary-probe-${randomBytes(4).toString('hex')}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
      state.controllerServing = true;
    }
    await admin.describeGroups(['__tributary-probe']);
    return { clusterId };
  } catch (error) {
    return describeProbeError(error);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function makeHandle(jvm: JvmProcess, spec: LaunchSpec, clusterId: string): LocalKafka {
  const brokers = [`127.0.0.1:${spec.port}`];
  const { controls } = manageLocalServer({
    name: `Kafka on ${brokers.join(',')}`,
    dataDir: spec.dataDir,
    first: { jvm },
    // kill() keeps kraft-logs/, so a restart serves the same topics and offsets on the same ports (chaos tests).
    restart: { launch: async (deadline) => ({ jvm: await spawnReady(spec, clusterId, deadline) }), timeoutMs: DEFAULT_START_TIMEOUT_MS },
    afterStop: () => releasePorts(spec.reserved),
  });
  const security = spec.secure ? securityOf(spec.secure.material, spec.secure.ports) : undefined;
  return {
    brokers,
    version: spec.version,
    port: spec.port,
    dataDir: spec.dataDir,
    ...(security ? { security } : {}),
    authorizer: spec.authorizer,
    ...controls,
  };
}

function serverProperties(spec: LaunchSpec, logDirs: string): string {
  const { version, port, controllerPort } = spec;
  const major = Number(version.split('.')[0]);
  const secure = spec.secure ? secureProperties(spec.secure.material, spec.secure.ports) : undefined;
  const props: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // Static voters: no --standalone at format time (mixing both is an error).
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: [`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`, ...(secure?.listeners ?? [])].join(','),
    'advertised.listeners': [`PLAINTEXT://127.0.0.1:${port}`, ...(secure?.listeners ?? [])].join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...(secure?.protocolMap ?? [])].join(','),
    ...secure?.props,
    ...(spec.authorizer ? authorizerProperties() : {}),
    'log.dirs': logDirs,
    'num.partitions': 1,
    'offsets.topic.replication.factor': 1,
    // The default 50 partitions make the first consumer group wait for 50
    // partition leaders on 2 cores; one is plenty for a dev broker.
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': 'false',
    // No message.max.bytes here: dev and test brokers keep Kafka's default limits (1 MiB record batches), as a
    // stock production broker has, so a client that sizes its requests wrongly fails here first (issue 13.4).
  };
  if (major >= 4) {
    // Share groups (KIP-932) arrived in 4.0; 3.9 would only warn about unknown keys.
    props['share.coordinator.state.topic.replication.factor'] = 1;
    props['share.coordinator.state.topic.min.isr'] = 1;
    props['share.coordinator.state.topic.num.partitions'] = 1;
  }
  return Object.entries(props)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
}

/**
 * KRaft's own authorizer (ACLs live in the metadata log, created with the admin API). Not set, because it is
 * already Kafka's default: `allow.everyone.if.no.acl.found=false`, so a resource without ACLs is denied to all
 * but super users, which is what proves a client's ACLs minimal. Denials are logged at INFO by
 * `kafka.authorizer.logger` into server.log.
 */
function authorizerProperties(): Record<string, string> {
  return {
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // The broker's own requests to its controller and the tests' admin and assertion clients come through the
    // PLAINTEXT and CONTROLLER listeners, unauthenticated: ANONYMOUS there must be allowed everything.
    'super.users': 'User:ANONYMOUS',
  };
}

/**
 * A Kafka cluster id is a UUID in base64url without padding (22 chars).
 * Kafka's own Uuid.randomUuid() rerolls ids starting with '-' because the
 * command line would read them as an option; so do we.
 */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
