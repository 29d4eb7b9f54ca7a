import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { agentConfigSchema, type AgentConfig } from '../../agent/config.js';
import { collectorConfigSchema, type CollectorConfig } from '../../collector/config.js';
import { validateConfig } from '../../shared/config/load.js';
import { packageRoot } from '../../shared/paths.js';
import { PROCESS_NODE_FLAGS } from '../../shared/process/node-flags.js';

/*
 * The Kubernetes manifests, rendered as a user renders them (`kubectl kustomize`), validated against the
 * Kubernetes OpenAPI schemas (kubernetes-models' validators, generated from them), and checked for what the
 * schemas cannot see: the embedded configs pass `tributary validate`, probes reach the telemetry server, mounts
 * hold what the config reads and writes, and the pod waits longer than the drain.
 */

const run = promisify(execFile);
const KUBERNETES_DIR = join(packageRoot(), 'deploy', 'kubernetes');
const CLI = join(packageRoot(), 'dist', 'cli', 'tributary.js');

/** Loosely typed Kubernetes objects: the schema validation has checked their shape before anything reads them. */
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface Probe {
  httpGet?: { path: string; port: number | string; scheme?: string };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  volumeMounts?: VolumeMount[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; runAsUser?: number };
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  hostPath?: { path: string };
  emptyDir?: object;
}
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  tolerations?: { operator?: string; key?: string }[];
  terminationGracePeriodSeconds?: number;
}
interface Workload extends KubeObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

// The model constructors take typed objects; validate() checks the untyped data they were given.
const VALIDATORS: Record<string, (object: KubeObject) => void> = {
  'v1/Namespace': (object) => new Namespace(object).validate(),
  'v1/ConfigMap': (object) => new ConfigMap(object).validate(),
  'v1/Secret': (object) => new Secret(object).validate(),
  'v1/Service': (object) => new Service(object).validate(),
  'apps/v1/DaemonSet': (object) => new DaemonSet(object).validate(),
  'apps/v1/Deployment': (object) => new Deployment(object).validate(),
  'policy/v1/PodDisruptionBudget': (object) => new PodDisruptionBudget(object).validate(),
};

/** `kubectl kustomize DIR`, parsed. */
async function render(dir: string): Promise<KubeObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(KUBERNETES_DIR, dir)], { maxBuffer: 16 * 1024 * 1024 }).catch((error: unknown) => {
    // Debian's kubernetes-client (1.20) embeds Kustomize 2, which predates the `labels` field these use.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('these tests render with `kubectl kustomize`: install kubectl 1.22 or later (Kustomize 4.1+)');
    throw error;
  });
  return parseAllDocuments(stdout).map((document) => document.toJS() as KubeObject);
}

/** The schema errors of one object ('' when valid); objects of kinds with no schema here say so. */
function schemaErrors(object: KubeObject): string {
  const validate = VALIDATORS[`${object.apiVersion}/${object.kind}`];
  if (!validate) return `no schema for ${object.apiVersion}/${object.kind}`;
  try {
    validate(object);
    return '';
  } catch (error) {
    return `${object.kind}/${object.metadata.name}: ${(error as Error).message}`;
  }
}

/** What the downward API gives the pod in this test: stand-ins with the right shapes. */
const FIELD_VALUES: Record<string, string> = {
  'spec.nodeName': 'node-a',
  'metadata.name': 'pod-a',
  'metadata.namespace': 'observability',
  'status.podIP': '10.244.1.7',
};

function containerEnv(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    env[variable.name] = variable.value ?? (fieldPath !== undefined ? (FIELD_VALUES[fieldPath] ?? `unknown field ${fieldPath}`) : '');
  }
  return env;
}

/** The static directory a glob starts from (`/var/log/app/*.log` → `/var/log/app`). */
function globBase(pattern: string): string {
  const parts = pattern.split('/');
  const firstGlob = parts.findIndex((part) => /[*?[{]/.test(part));
  return firstGlob === -1 ? posix.dirname(pattern) : parts.slice(0, firstGlob).join('/') || '/';
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** Every `*_file` value in a config, with its key path. */
function fileKeys(value: unknown, path = ''): { key: string; file: string }[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => {
    const keyPath = path ? `${path}.${key}` : key;
    if (key.endsWith('_file') && typeof inner === 'string') return [{ key: keyPath, file: inner }];
    return fileKeys(inner, keyPath);
  });
}

function resolvePort(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

interface TributaryContainer {
  workload: Workload;
  container: Container;
  kind: 'agent' | 'collector';
  configText: string;
  env: Record<string, string>;
}

/** The tributary containers of the rendered objects, each with its config from the mounted ConfigMap. */
function tributaryContainers(objects: KubeObject[]): TributaryContainer[] {
  const found: TributaryContainer[] = [];
  for (const object of objects) {
    if (object.kind !== 'DaemonSet' && object.kind !== 'Deployment') continue;
    const workload = object as Workload;
    const pod = workload.spec.template.spec;
    for (const container of pod.containers) {
      const [kind, flag, configPath] = container.args ?? [];
      if (!/(^|\/)tributary:/.test(container.image)) continue;
      if ((kind !== 'agent' && kind !== 'collector') || flag !== '--config' || !configPath) {
        throw new Error(`${workload.metadata.name}/${container.name}: args are not [agent|collector, --config, FILE]`);
      }
      const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === dirname(configPath));
      const volume = pod.volumes?.find((candidate) => candidate.name === mount?.name);
      const configMap = objects.find((candidate) => candidate.kind === 'ConfigMap' && candidate.metadata.name === volume?.configMap?.name);
      const configText = (configMap?.data as Record<string, string> | undefined)?.[basename(configPath)];
      if (configText === undefined) throw new Error(`${workload.metadata.name}/${container.name}: ${configPath} is not a key of a mounted ConfigMap`);
      found.push({ workload, container, kind, configText, env: containerEnv(container) });
    }
  }
  return found;
}

/**
 * What must hold between a tributary container, its pod and its config for the pod to work; one line per
 * problem, none when it holds.
 */
function invariantProblems(objects: KubeObject[]): string[] {
  const problems: string[] = [];
  for (const { workload, container, kind, configText, env } of tributaryContainers(objects)) {
    const where = `${workload.kind}/${workload.metadata.name}/${container.name}`;
    const pod = workload.spec.template.spec;
    const mounts = container.volumeMounts ?? [];
    const volumeOf = (mount: VolumeMount) => pod.volumes?.find((volume) => volume.name === mount.name);
    const document: unknown = parseYaml(configText);
    for (const variable of new Set([...configText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? ''))) {
      if (!(variable in env)) problems.push(`${where}: the config uses \${${variable}}, which the container's env does not set`);
    }
    let config: AgentConfig | CollectorConfig;
    try {
      config = kind === 'agent' ? validateConfig(agentConfigSchema, document, where, env) : validateConfig(collectorConfigSchema, document, where, env);
    } catch (error) {
      problems.push(`${where}: invalid config: ${(error as Error).message}`);
      continue;
    }

    // The kubelet probes the pod IP on the container's port: the telemetry server must listen there.
    const telemetry = config.telemetry;
    if (!['0.0.0.0', '::', env.POD_IP].includes(telemetry.listen_address)) {
      problems.push(`${where}: telemetry.listen_address ${telemetry.listen_address} is not reachable by the kubelet (use \${POD_IP} or 0.0.0.0)`);
    }
    const scheme = telemetry.tls ? 'HTTPS' : 'HTTP';
    for (const [probeName, path] of [
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ] as const) {
      const probe = container[probeName]?.httpGet;
      if (!probe) {
        problems.push(`${where}: no ${probeName}`);
        continue;
      }
      if (probe.path !== path) problems.push(`${where}: ${probeName} path ${probe.path}, expected ${path}`);
      const port = resolvePort(container, probe.port);
      if (port !== telemetry.port) problems.push(`${where}: ${probeName} port ${String(probe.port)} (${String(port)}) is not telemetry.port ${telemetry.port}`);
      if ((probe.scheme ?? 'HTTP') !== scheme) problems.push(`${where}: ${probeName} scheme ${probe.scheme ?? 'HTTP'}, the telemetry server speaks ${scheme}`);
    }
    if (telemetry.auth?.probes) problems.push(`${where}: telemetry.auth.probes is true, but kubelet probes send no credentials`);

    const shutdownMs = 'agent' in config ? config.agent.shutdown_timeout : config.collector.shutdown_timeout;
    const graceSeconds = pod.terminationGracePeriodSeconds ?? 30;
    if (graceSeconds * 1000 <= shutdownMs) {
      problems.push(`${where}: terminationGracePeriodSeconds ${graceSeconds} does not exceed shutdown_timeout ${shutdownMs / 1000}s`);
    }

    if (container.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem is not read-only`);
    if (container.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}: privilege escalation is allowed`);
    if (!container.resources?.requests?.cpu || !container.resources.requests.memory || !container.resources.limits?.memory) {
      problems.push(`${where}: cpu/memory requests or the memory limit missing`);
    }

    // Every file the config names is under a mount that can provide it.
    for (const { key, file } of fileKeys(document)) {
      // The deepest mount holding the path is the one the container sees there.
      const mount = [...mounts].sort((a, b) => b.mountPath.length - a.mountPath.length).find((candidate) => isUnder(file, candidate.mountPath));
      const volume = mount && volumeOf(mount);
      if (!mount || !volume?.secret) {
        problems.push(`${where}: ${key} ${file} is not in a mounted Secret`);
        continue;
      }
      const secret = objects.find((object) => object.kind === 'Secret' && object.metadata.name === volume.secret?.secretName);
      const keys = Object.keys({ ...(secret?.data as object | undefined), ...(secret?.stringData as object | undefined) });
      if (secret && !keys.includes(posix.relative(mount.mountPath, file))) {
        problems.push(`${where}: ${key} ${file}: Secret ${secret.metadata.name} has no key ${posix.relative(mount.mountPath, file)}`);
      }
    }

    if ('agent' in config) {
      const dataMount = mounts.find((mount) => mount.mountPath === config.agent.data_dir);
      const dataVolume = dataMount && volumeOf(dataMount);
      if (!dataMount || dataMount.readOnly || !(dataVolume?.hostPath ?? dataVolume?.emptyDir)) {
        problems.push(`${where}: agent.data_dir ${config.agent.data_dir} is not a writable hostPath or emptyDir mount`);
      }
      for (const [id, source] of Object.entries(config.sources)) {
        if (source.type !== 'file') continue;
        for (const pattern of source.include) {
          const base = globBase(pattern);
          if (!mounts.some((mount) => isUnder(base, mount.mountPath))) problems.push(`${where}: sources.${id}.include ${pattern} is not under a mount`);
        }
      }
    }
  }
  return problems;
}

/** The value, or a failure naming what the manifests lack. */
function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`missing: ${what}`);
  return value;
}

function findObject(objects: KubeObject[], kind: string, name?: string): KubeObject {
  return must(
    objects.find((candidate) => candidate.kind === kind && (name === undefined || candidate.metadata.name === name)),
    `${kind} ${name ?? ''} in the rendered objects`,
  );
}

/** The DaemonSet or Deployment of the rendered objects (their shape was schema-checked before this reads it). */
function findWorkload(objects: KubeObject[], kind: 'DaemonSet' | 'Deployment'): Workload {
  return findObject(objects, kind) as Workload;
}

function podOf(objects: KubeObject[], kind: 'DaemonSet' | 'Deployment'): PodSpec {
  return findWorkload(objects, kind).spec.template.spec;
}

function firstContainer(pod: PodSpec): Container {
  return must(pod.containers[0], 'a container');
}

function mountAt(container: Container, mountPath: string): VolumeMount {
  return must(
    container.volumeMounts?.find((mount) => mount.mountPath === mountPath),
    `${container.name}: a mount at ${mountPath}`,
  );
}

function volumeNamed(pod: PodSpec, name: string): Volume {
  return must(
    pod.volumes?.find((volume) => volume.name === name),
    `volume ${name}`,
  );
}

function configOf(objects: KubeObject[], kind: 'agent' | 'collector'): TributaryContainer {
  return must(
    tributaryContainers(objects).find((entry) => entry.kind === kind),
    `a ${kind} container`,
  );
}

const kindsOf = (objects: KubeObject[]) => objects.map((object) => `${object.kind}/${object.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>')}`).sort();

describe('Kubernetes manifests (kubectl kustomize, Kubernetes OpenAPI schemas)', () => {
  const rendered = new Map<string, KubeObject[]>();
  const renderedOf = (dir: string): KubeObject[] => must(rendered.get(dir), `the rendering of ${dir}`);
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tributary-kubernetes-'));
    for (const dir of ['agent-daemonset', 'agent-sidecar', 'collector', 'monitoring', 'overlays/example']) rendered.set(dir, await render(dir));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('renders every shape to the objects it documents', () => {
    expect(kindsOf(renderedOf('agent-daemonset'))).toEqual(['ConfigMap/tributary-agent-<hash>', 'DaemonSet/tributary-agent']);
    expect(kindsOf(renderedOf('agent-sidecar'))).toEqual(['ConfigMap/tributary-sidecar-<hash>', 'Deployment/shop']);
    expect(kindsOf(renderedOf('collector'))).toEqual([
      'ConfigMap/tributary-collector-<hash>',
      'Deployment/tributary-collector',
      'PodDisruptionBudget/tributary-collector',
      'Service/tributary-collector',
    ]);
    expect(kindsOf(renderedOf('monitoring'))).toEqual(['ServiceMonitor/tributary-collector']);
    const overlay = renderedOf('overlays/example');
    expect(kindsOf(overlay)).toEqual([
      'ConfigMap/tributary-agent-<hash>',
      'ConfigMap/tributary-collector-<hash>',
      'DaemonSet/tributary-agent',
      'Deployment/tributary-collector',
      'Namespace/observability',
      'PodDisruptionBudget/tributary-collector',
      'Secret/tributary-collector',
      'Service/tributary-collector',
      'ServiceMonitor/tributary-collector',
    ]);
    // The overlay's values reached the objects.
    expect(overlay.filter((object) => object.kind !== 'Namespace').every((object) => object.metadata.namespace === 'observability')).toBe(true);
    expect(findWorkload(overlay, 'Deployment').spec.replicas).toBe(6);
    expect(firstContainer(podOf(overlay, 'DaemonSet')).image).toBe('registry.example.com/tributary:0.1.0');
    const brokers = validateConfig(agentConfigSchema, parseYaml(configOf(overlay, 'agent').configText), 'overlay', configOf(overlay, 'agent').env).kafka
      .brokers;
    expect(brokers).toEqual(['kafka-0.kafka.example.internal:9092']);
  });

  it('every object is valid against the Kubernetes OpenAPI schema of its kind', () => {
    for (const [dir, objects] of rendered) {
      const errors = objects.filter((object) => object.kind !== 'ServiceMonitor').map(schemaErrors);
      expect({ dir, errors: errors.filter(Boolean) }).toEqual({ dir, errors: [] });
    }
    // The validators do catch a wrong type and a missing required field (the schema allows unknown fields, as
    // the Kubernetes API does without strict field validation).
    const broken = structuredClone(findWorkload(renderedOf('agent-daemonset'), 'DaemonSet'));
    const agent = firstContainer(broken.spec.template.spec);
    Object.assign(must(agent.ports?.[0], 'a port'), { containerPort: '9464' });
    delete (must(agent.livenessProbe?.httpGet, 'an httpGet probe') as { port?: unknown }).port;
    expect(schemaErrors(broken)).toBe(
      'DaemonSet/tributary-agent: data/spec/template/spec/containers/0/livenessProbe/httpGet must have required property port, data/spec/template/spec/containers/0/ports/0/containerPort must be integer',
    );
  });

  it('every embedded config passes `tributary validate` (the compiled CLI) with the env the pod gives it', async () => {
    let checked = 0;
    for (const [dir, objects] of rendered) {
      for (const { workload, container, kind, configText, env } of tributaryContainers(objects)) {
        const file = join(scratch, `${dir.replace('/', '-')}-${workload.metadata.name}-${container.name}.yaml`);
        await writeFile(file, configText);
        const result = await run(process.execPath, [...PROCESS_NODE_FLAGS, CLI, 'validate', '--config', file, '--kind', kind], {
          env: { PATH: process.env.PATH, ...env },
        });
        expect(result.stdout).toBe(`${file}: valid ${kind} configuration\n`);
        checked++;
      }
    }
    // DaemonSet, sidecar, collector, and the overlay's DaemonSet and collector.
    expect(checked).toBe(5);
  });

  it('probes, mounts, secrets, grace periods and security settings agree with the configs', () => {
    for (const [dir, objects] of rendered) expect({ dir, problems: invariantProblems(objects) }).toEqual({ dir, problems: [] });
  });

  it('the invariant checks catch each mistake they exist for', () => {
    const mutate = (change: (objects: KubeObject[]) => void): string[] => {
      const copy = structuredClone(renderedOf('overlays/example'));
      change(copy);
      return invariantProblems(copy);
    };
    const agentOf = (objects: KubeObject[]) => firstContainer(podOf(objects, 'DaemonSet'));
    const where = 'DaemonSet/tributary-agent/agent';
    expect(mutate((objects) => Object.assign(must(agentOf(objects).ports?.[0], 'a port'), { containerPort: 9999 }))).toEqual([
      `${where}: livenessProbe port telemetry (9999) is not telemetry.port 9464`,
      `${where}: readinessProbe port telemetry (9999) is not telemetry.port 9464`,
    ]);
    expect(mutate((objects) => Object.assign(must(agentOf(objects).readinessProbe?.httpGet, 'a probe'), { path: '/healthz' }))).toEqual([
      `${where}: readinessProbe path /healthz, expected /readyz`,
    ]);
    expect(mutate((objects) => (podOf(objects, 'DaemonSet').terminationGracePeriodSeconds = 30))).toEqual([
      `${where}: terminationGracePeriodSeconds 30 does not exceed shutdown_timeout 30s`,
    ]);
    expect(
      mutate((objects) => {
        const agent = agentOf(objects);
        agent.volumeMounts = agent.volumeMounts?.filter((mount) => mount.name !== 'containers');
      }),
    ).toEqual([`${where}: sources.containers.include /var/log/containers/*.log is not under a mount`]);
    expect(mutate((objects) => (mountAt(agentOf(objects), '/var/lib/tributary').readOnly = true))).toEqual([
      `${where}: agent.data_dir /var/lib/tributary is not a writable hostPath or emptyDir mount`,
    ]);
    expect(
      mutate((objects) => {
        const agent = agentOf(objects);
        agent.env = agent.env?.filter((variable) => variable.name !== 'POD_IP');
      }),
    ).toEqual([
      `${where}: the config uses \${POD_IP}, which the container's env does not set`,
      `${where}: invalid config: invalid configuration in ${where}:\n  ${where}: telemetry.listen_address: environment variable POD_IP is not set and has no default (write \${POD_IP:-default})`,
    ]);
    expect(
      mutate((objects) => {
        const pod = podOf(objects, 'Deployment');
        pod.volumes = pod.volumes?.filter((volume) => volume.name !== 'secrets');
      }),
    ).toEqual([
      'Deployment/tributary-collector/collector: telemetry.auth.basic_auth.password_file /etc/tributary/secrets/telemetry-password is not in a mounted Secret',
    ]);
    expect(mutate((objects) => (findObject(objects, 'Secret').data = { 'telemetry-username': 'cHJvbWV0aGV1cw==' }))).toEqual([
      'Deployment/tributary-collector/collector: telemetry.auth.basic_auth.password_file /etc/tributary/secrets/telemetry-password: Secret tributary-collector has no key telemetry-password',
    ]);
  });

  it('the DaemonSet runs on every node, reads the node logs and keeps its checkpoints on the node', () => {
    const objects = renderedOf('agent-daemonset');
    const pod = podOf(objects, 'DaemonSet');
    const agent = firstContainer(pod);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    const hostPathOf = (mountPath: string) => {
      const mount = mountAt(agent, mountPath);
      return { hostPath: volumeNamed(pod, mount.name).hostPath?.path, readOnly: mount.readOnly === true };
    };
    expect(hostPathOf('/var/log/containers')).toEqual({ hostPath: '/var/log/containers', readOnly: true });
    expect(hostPathOf('/var/log/pods')).toEqual({ hostPath: '/var/log/pods', readOnly: true });
    expect(hostPathOf('/var/lib/tributary')).toEqual({ hostPath: '/var/lib/tributary-agent', readOnly: false });
    expect(agent.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    const { configText, env } = configOf(objects, 'agent');
    const config = validateConfig(agentConfigSchema, parseYaml(configText), 'daemonset', env);
    expect({ host_name: config.agent.host_name, id: config.agent.id }).toEqual({ host_name: 'node-a', id: 'node-a' });
  });

  it('the sidecar shares the application container’s log directory through an emptyDir', () => {
    const pod = podOf(renderedOf('agent-sidecar'), 'Deployment');
    const [app, agent] = pod.containers;
    const appLogs = mountAt(must(app, 'the app container'), '/var/log/app');
    expect(must(agent, 'the agent container').volumeMounts).toContainEqual({ name: appLogs.name, mountPath: '/var/log/app', readOnly: true });
    expect(volumeNamed(pod, appLogs.name).emptyDir).toBeDefined();
  });

  it('the collector scales within the partitions, survives drains one pod at a time, and exposes /metrics', () => {
    const overlay = renderedOf('overlays/example');
    const deployment = findWorkload(overlay, 'Deployment');
    const podLabels = deployment.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>) => Object.entries(selector).every(([key, value]) => podLabels[key] === value);
    // The agents' raw topic is created with output.partitions (6 by default): more collectors would sit idle.
    const agentConfig = configOf(overlay, 'agent');
    const partitions = validateConfig(agentConfigSchema, parseYaml(agentConfig.configText), 'agent', agentConfig.env).output.partitions;
    expect(deployment.spec.replicas).toBeLessThanOrEqual(partitions);
    expect(findWorkload(renderedOf('collector'), 'Deployment').spec.replicas).toBeLessThanOrEqual(partitions);

    const budget = findObject(overlay, 'PodDisruptionBudget') as KubeObject & {
      spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(matches(budget.spec.selector.matchLabels)).toBe(true);

    const service = findObject(overlay, 'Service') as KubeObject & {
      spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    };
    const servicePort = must(service.spec.ports[0], 'a Service port');
    expect(matches(service.spec.selector)).toBe(true);
    expect(resolvePort(firstContainer(deployment.spec.template.spec), servicePort.targetPort)).toBe(9465);

    // The ServiceMonitor (no schema here: the Prometheus Operator's CRD is not part of kubernetes-models) selects
    // the Service, scrapes its port by name and sends the credentials the collector checks.
    const monitor = findObject(overlay, 'ServiceMonitor') as KubeObject & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string; basicAuth: { username: { name: string; key: string }; password: { name: string; key: string } } }[];
      };
    };
    expect(Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => service.metadata.labels?.[key] === value)).toBe(true);
    const endpoint = must(monitor.spec.endpoints[0], 'a ServiceMonitor endpoint');
    expect({ port: endpoint.port, path: endpoint.path }).toEqual({ port: servicePort.name, path: '/metrics' });
    const secret = findObject(overlay, 'Secret', endpoint.basicAuth.password.name) as KubeObject & { data: Record<string, string> };
    const decoded = (key: string) => Buffer.from(secret.data[key] ?? '', 'base64').toString();
    const collectorConfig = configOf(overlay, 'collector');
    const telemetry = validateConfig(collectorConfigSchema, parseYaml(collectorConfig.configText), 'collector', collectorConfig.env).telemetry;
    expect(decoded(endpoint.basicAuth.username.key)).toBe(telemetry.auth?.basic_auth?.username);
    expect(telemetry.auth?.basic_auth?.password_file).toBe(`/etc/tributary/secrets/${endpoint.basicAuth.password.key}`);
  });
});
