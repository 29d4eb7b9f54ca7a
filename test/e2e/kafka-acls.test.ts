import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { grantAcls, type AclGrant } from '../../deploy/dev/kafka/acls.js';
import { startLocalKafka, type LocalKafka, type LocalKafkaSecurity } from '../../deploy/dev/kafka/local-kafka.js';
import type { LogRecord } from '../../shared/record/log-record.js';
import { bodiesInTopic, checkpointOffsets, checkpointsAtEnd, writeLogFiles } from '../helpers/agent-run.js';
import { messageCount, readTopic, testKafka, uniqueName, waitFor } from '../helpers/kafka.js';
import { freePort, startCli, waitUntilReady, writeYaml, type RunningProcess } from '../helpers/processes.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/**
 * The built agent and collector against a broker with KRaft's StandardAuthorizer (nothing allowed without an
 * ACL, Kafka's default), each with its own principal: the agent a SCRAM user (`User:tributary`), the collector
 * its mTLS certificate (`User:CN=tributary-client`). They start with the README's minimal ACLs minus one each;
 * each stays up, not ready, naming on /readyz the ACL to grant and to whom; once it is granted (no restart) every
 * line arrives exactly once. At the end the broker holds exactly the README's minimal ACLs and nothing else.
 */
const LINES = 600;
const AGENT = 'User:tributary';
const COLLECTOR = 'User:CN=tributary-client';

const rawTopic = uniqueName('acl-raw');
const logsTopic = uniqueName('acl-logs');
const deadLetterTopic = uniqueName('acl-dlq');
const group = uniqueName('acl-group');

const topicAcl = (principal: string, name: string, ...operations: AclGrant['operation'][]): AclGrant[] =>
  operations.map((operation) => ({ principal, resource: 'topic', name, operation }));

/** The README's minimal ACLs for an agent that creates its raw topic. */
const agentWrite = topicAcl(AGENT, rawTopic, 'write');
const agentAcls = [...topicAcl(AGENT, rawTopic, 'describe', 'create'), ...agentWrite];
/** The README's minimal ACLs for a collector whose kafka_topics output writes logs and metrics to one topic. */
const collectorGroupRead: AclGrant[] = [{ principal: COLLECTOR, resource: 'group', name: group, operation: 'read' }];
const collectorLogsWrite = topicAcl(COLLECTOR, logsTopic, 'write');
const collectorAcls = [
  ...topicAcl(COLLECTOR, rawTopic, 'describe', 'read'),
  ...collectorGroupRead,
  ...topicAcl(COLLECTOR, logsTopic, 'describe', 'create'),
  ...collectorLogsWrite,
  ...topicAcl(COLLECTOR, deadLetterTopic, 'describe', 'create', 'write'),
];
const withheld = new Set([...agentWrite, ...collectorGroupRead, ...collectorLogsWrite]);

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: await response.text() };
}

describe('agent and collector under Kafka ACLs (real processes, StandardAuthorizer)', () => {
  let kafka: LocalKafka | undefined;
  let dir: string;
  let agent: RunningProcess | undefined;
  let collector: RunningProcess | undefined;

  beforeAll(async () => {
    kafka = await startLocalKafka({ secure: true, authorizer: true });
    dir = await mkdtemp(join(tmpdir(), 'tributary-e2e-acls-'));
  });

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await collector?.stop('SIGKILL');
    await kafka?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('each waits, not ready and naming the missing ACL and principal, until it is granted; then every line arrives once', async () => {
    const brokers = kafka?.brokers as string[];
    const security = kafka?.security as LocalKafkaSecurity;
    await grantAcls(
      brokers,
      [...agentAcls, ...collectorAcls].filter((acl) => !withheld.has(acl)),
    );
    const passwordFile = join(dir, 'kafka-password');
    await writeFile(passwordFile, `${security.password}\n`, { mode: 0o600 });
    const logDir = join(dir, 'logs');
    const dataDir = join(dir, 'agent-data');
    await mkdir(logDir);
    const { paths, lines } = await writeLogFiles(logDir, 2, LINES, 'acl');
    const agentPort = await freePort();
    const collectorPort = await freePort();
    agent = startCli(
      'agent',
      await writeYaml(join(dir, 'agent.yaml'), {
        agent: { id: 'acl-agent', data_dir: dataDir, checkpoint_interval: '200ms' },
        kafka: {
          brokers: security.saslSslBrokers,
          tls: { enabled: true, ca_file: security.caFile },
          sasl: { mechanism: 'scram-sha-512', username: security.username, password_file: passwordFile },
        },
        sources: { app: { type: 'file', include: [join(logDir, '*.log')], poll_interval: '100ms' } },
        framer: { linger: '50ms' },
        output: { topic: rawTopic, partitions: 2, retry: { max_backoff: '1s' } },
        telemetry: { port: agentPort },
      }),
    );
    collector = startCli(
      'collector',
      await writeYaml(join(dir, 'collector.yaml'), {
        collector: { group_id: group },
        kafka: {
          brokers: security.mtlsBrokers,
          tls: { enabled: true, ca_file: security.caFile, cert_file: security.clientCertFile, key_file: security.clientKeyFile },
        },
        input: { topics: [rawTopic] },
        outputs: { normalized: { type: 'kafka_topics', logs_topic: logsTopic, metrics_topic: logsTopic, partitions: 2 } },
        dead_letter: { topic: deadLetterTopic },
        retry: { max_backoff: '1s' },
        telemetry: { port: collectorPort },
      }),
    );

    // The agent: connected (Describe, Create), but every produce is denied; it retries, not ready, reading on.
    const agentDenial = `Kafka denied TOPIC_AUTHORIZATION_FAILED on topic ${rawTopic}: grant Write and Describe on topic ${rawTopic} to principal ${AGENT} (see README "Kafka security")`;
    await waitFor(
      'the agent to report the denied Write on /readyz',
      async () => ((await readyz(agentPort)).body.includes(agentDenial) ? true : undefined),
      60_000,
    );
    expect((await readyz(agentPort)).status).toBe(503);
    // The collector: topics in place, but joining its group is denied.
    const groupDenial = `grant Read on group ${group} to principal ${COLLECTOR} (see README "Kafka security")`;
    await waitFor(
      'the collector to report the denied group on /readyz',
      async () => ((await readyz(collectorPort)).body.includes(groupDenial) ? true : undefined),
      60_000,
    );
    expect((await readyz(collectorPort)).status).toBe(503);
    expect(collector.stderr()).toContain('"msg":"Kafka denied the consumer; not ready, retrying until the ACL is granted"');
    // Nothing was acknowledged, so no checkpoint moved.
    const offsets = await checkpointOffsets(dataDir).catch(() => new Map<string, number>());
    expect(paths.map((path) => offsets.get(path) ?? 0)).toEqual([0, 0]);
    expect(await messageCount(rawTopic, brokers)).toBe(0);

    // Write granted: the agent ships everything it held, once, without a restart.
    await grantAcls(brokers, agentWrite);
    await waitUntilReady(agent, `http://127.0.0.1:${agentPort}`, 30_000);
    await waitFor('checkpoints at the end of both files', async () => ((await checkpointsAtEnd(dataDir, paths)) ? true : undefined), 60_000);
    const raw = await bodiesInTopic(rawTopic, brokers);
    expect(raw.length).toBe(LINES);
    expect(new Set(raw)).toEqual(lines);

    // Group Read granted: the collector joins and consumes, and its output is denied Write on the normalized topic.
    await grantAcls(brokers, collectorGroupRead);
    const writeDenial = `Kafka denied TOPIC_AUTHORIZATION_FAILED on topic ${logsTopic}: grant Write and Describe on topic ${logsTopic} to principal ${COLLECTOR}`;
    await waitFor(
      'the collector to report the denied Write on /readyz',
      async () => ((await readyz(collectorPort)).body.includes(writeDenial) ? true : undefined),
      60_000,
    );
    expect((await readyz(collectorPort)).status).toBe(503);
    expect(await messageCount(logsTopic, brokers)).toBe(0);

    // Write granted: every line arrives on the normalized topic, once (nothing was committed before).
    await grantAcls(brokers, collectorLogsWrite);
    await waitUntilReady(collector, `http://127.0.0.1:${collectorPort}`, 30_000);
    await waitFor(`${LINES} records in ${logsTopic}`, async () => ((await messageCount(logsTopic, brokers)) >= LINES ? true : undefined), 60_000);
    const records = (await readTopic(logsTopic, LINES, 60_000, brokers)).map((message) => JSON.parse(message.value.toString('utf8')) as LogRecord);
    expect(records.length).toBe(LINES);
    expect(new Set(records.map((record) => record.body))).toEqual(lines);
    expect(await messageCount(deadLetterTopic, brokers)).toBe(0);

    // Neither process ever exited, and both end cleanly.
    expect(agent.child.exitCode).toBeNull();
    expect(collector.child.exitCode).toBeNull();
    expect(await agent.stop('SIGTERM')).toBe(0);
    expect(await collector.stop('SIGTERM')).toBe(0);
    expect(await messageCount(logsTopic, brokers)).toBe(LINES);
  });

  it('the broker holds exactly the minimal ACLs the README lists, and nothing else', async () => {
    const admin = testKafka(kafka?.brokers).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      // Names as acls.ts spells them; kafkajs answers with its codes (plain objects, no reverse mapping).
      const namesOf = (codes: object) => new Map(Object.entries(codes).map(([name, code]) => [Number(code), name.toLowerCase()]));
      const operationNames = namesOf(AclOperationTypes);
      const resourceNames = namesOf(AclResourceTypes);
      const operationName = (code: kafkajs.AclOperationTypes) => operationNames.get(code);
      const resourceName = (code: kafkajs.AclResourceTypes) => resourceNames.get(code);
      const held = resources.flatMap((resource) =>
        resource.acls.map((acl) => `${acl.principal} ${resourceName(resource.resourceType)} ${resource.resourceName} ${operationName(acl.operation)}`),
      );
      const minimal = [...agentAcls, ...collectorAcls].map((acl) => `${acl.principal} ${acl.resource} ${acl.name} ${acl.operation}`);
      expect(held.sort()).toEqual(minimal.sort());
    } finally {
      await admin.disconnect();
    }
  });
});
