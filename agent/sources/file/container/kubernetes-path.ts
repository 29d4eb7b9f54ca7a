/**
 * `/var/log/containers/<pod>_<namespace>_<container>-<container id>.log`: the
 * symlinks kubelet keeps for each running container. Pod names (DNS
 * subdomains), namespaces and container names (DNS labels) never contain `_`
 * or `/`, so the underscores split unambiguously; the container name may hold
 * dashes, but the id is always the last 64 hex digits.
 */
const CONTAINERS_LAYOUT = /\/var\/log\/containers\/([^_/]+)_([^_/]+)_([^_/]+)-([0-9a-f]{64})\.log$/;

/**
 * `/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart count>.log`:
 * where kubelet has the runtime write (CRI logging). The uid is a UUID, or for
 * static pods a 32-hex-digit hash. Kubelet rotates `0.log` to
 * `0.log.<yyyymmdd-hhmmss>` (later gzipped); the uncompressed rotated file
 * still belongs to the same container.
 */
const PODS_LAYOUT = /\/var\/log\/pods\/([^_/]+)_([^_/]+)_([0-9a-f][0-9a-f-]*)\/([^_/]+)\/(\d+)\.log(?:\.\d{8}-\d{6})?$/;

/**
 * OpenTelemetry semantic-convention resource attributes for a Kubernetes
 * container log file, from its path alone; undefined for any other path.
 * Only the end of the path is matched, so the node's /var/log mounted into
 * the agent's container under a prefix (`/host/var/log/...`) works too.
 */
export function kubernetesMetadataFromPath(path: string): Record<string, string> | undefined {
  const container = CONTAINERS_LAYOUT.exec(path);
  if (container !== null) {
    const [, pod, namespace, name, id] = container;
    if (pod === undefined || namespace === undefined || name === undefined || id === undefined) return undefined;
    return { 'k8s.pod.name': pod, 'k8s.namespace.name': namespace, 'k8s.container.name': name, 'container.id': id };
  }
  const pods = PODS_LAYOUT.exec(path);
  if (pods !== null) {
    const [, namespace, pod, uid, name, restarts] = pods;
    if (namespace === undefined || pod === undefined || uid === undefined || name === undefined || restarts === undefined) return undefined;
    return {
      'k8s.pod.name': pod,
      'k8s.namespace.name': namespace,
      'k8s.container.name': name,
      'k8s.pod.uid': uid,
      'k8s.container.restart_count': restarts,
    };
  }
  return undefined;
}
