import { describe, expect, it } from 'vitest';
import { kubernetesMetadataFromPath } from './kubernetes-path.js';

const CONTAINER_ID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const POD_UID = '3f2a6c1e-8b4d-4e7a-9c0f-1d2e3f4a5b6c';

describe('kubernetesMetadataFromPath', () => {
  it('reads the /var/log/containers symlink layout', () => {
    expect(kubernetesMetadataFromPath(`/var/log/containers/coredns-5d78c9869d-abcde_kube-system_coredns-${CONTAINER_ID}.log`)).toEqual({
      'k8s.pod.name': 'coredns-5d78c9869d-abcde',
      'k8s.namespace.name': 'kube-system',
      'k8s.container.name': 'coredns',
      'container.id': CONTAINER_ID,
    });
  });

  it('keeps dashes in container names and dots in pod names', () => {
    expect(kubernetesMetadataFromPath(`/var/log/containers/web.example.com-0_prod-eu_istio-proxy-${CONTAINER_ID}.log`)).toEqual({
      'k8s.pod.name': 'web.example.com-0',
      'k8s.namespace.name': 'prod-eu',
      'k8s.container.name': 'istio-proxy',
      'container.id': CONTAINER_ID,
    });
  });

  it('reads the /var/log/pods layout', () => {
    expect(kubernetesMetadataFromPath(`/var/log/pods/default_web-7f9c_${POD_UID}/nginx/0.log`)).toEqual({
      'k8s.pod.name': 'web-7f9c',
      'k8s.namespace.name': 'default',
      'k8s.container.name': 'nginx',
      'k8s.pod.uid': POD_UID,
      'k8s.container.restart_count': '0',
    });
  });

  it('reads a static pod, whose uid is a hash, after restarts', () => {
    expect(
      kubernetesMetadataFromPath('/var/log/pods/kube-system_kube-apiserver-node-1.example_9a1b2c3d4e5f60718293a4b5c6d7e8f9/kube-apiserver/12.log'),
    ).toEqual({
      'k8s.pod.name': 'kube-apiserver-node-1.example',
      'k8s.namespace.name': 'kube-system',
      'k8s.container.name': 'kube-apiserver',
      'k8s.pod.uid': '9a1b2c3d4e5f60718293a4b5c6d7e8f9',
      'k8s.container.restart_count': '12',
    });
  });

  it('reads a file kubelet rotated, and the node log dir mounted under a prefix', () => {
    expect(kubernetesMetadataFromPath(`/host/var/log/pods/default_web-7f9c_${POD_UID}/nginx/1.log.20240101-000000`)).toMatchObject({
      'k8s.pod.name': 'web-7f9c',
      'k8s.container.restart_count': '1',
    });
    expect(kubernetesMetadataFromPath(`/host/var/log/containers/web_default_nginx-${CONTAINER_ID}.log`)).toMatchObject({ 'k8s.pod.name': 'web' });
  });

  it.each([
    ['a plain log file', '/var/log/syslog'],
    ['an application log', '/var/log/nginx/access.log'],
    ['a short container id', '/var/log/containers/web_default_nginx-0123abcd.log'],
    ['an upper-case container id', `/var/log/containers/web_default_nginx-${CONTAINER_ID.toUpperCase()}.log`],
    ['a missing namespace', `/var/log/containers/web_nginx-${CONTAINER_ID}.log`],
    ['an extra underscore', `/var/log/containers/web_x_default_nginx-${CONTAINER_ID}.log`],
    ['a container file in a subdirectory', `/var/log/containers/sub/web_default_nginx-${CONTAINER_ID}.log`],
    ['a pods directory without uid', '/var/log/pods/default_web/nginx/0.log'],
    ['a non-numeric restart count', `/var/log/pods/default_web-7f9c_${POD_UID}/nginx/current.log`],
    ['a compressed rotated file', `/var/log/pods/default_web-7f9c_${POD_UID}/nginx/0.log.20240101-000000.gz`],
    ['a pods file outside a container directory', `/var/log/pods/default_web-7f9c_${POD_UID}/0.log`],
    ['a relative path', `var/log/containers/web_default_nginx-${CONTAINER_ID}.log`],
  ])('returns undefined for %s', (_name, path) => {
    expect(kubernetesMetadataFromPath(path)).toBeUndefined();
  });
});
