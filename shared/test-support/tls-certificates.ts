import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TestCertificates {
  /** PEM file of the CA, for `ca_file` options. */
  caFile: string;
  /** The server's key and certificate (for `host`), for node:https servers. */
  key: Buffer;
  cert: Buffer;
}

/**
 * A throwaway CA and a server certificate for `host`, made with the openssl
 * CLI in `dir`, for tests of TLS options (CA, server name) against local
 * servers. Test support only; nothing in the product uses it.
 */
export async function makeTestCertificates(dir: string, host: string): Promise<TestCertificates> {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${host}`]);
  await writeFile(join(dir, 'ext.cnf'), `subjectAltName=DNS:${host}\n`);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf']);
  return { caFile: join(dir, 'ca.pem'), key: await readFile(join(dir, 'server.key')), cert: await readFile(join(dir, 'server.pem')) };
}

export interface TestClientCertificate {
  certFile: string;
  keyFile: string;
}

/**
 * A client certificate with common name `name`, signed by the CA that {@link makeTestCertificates} made in `dir`,
 * for mutual-TLS tests; its files are `<name>.pem` and `<name>.key` in `dir`.
 */
export async function makeTestClientCertificate(dir: string, name: string): Promise<TestClientCertificate> {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  await writeFile(join(dir, `${name}.cnf`), 'extendedKeyUsage=clientAuth\n');
  run([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-extfile',
    `${name}.cnf`,
  ]);
  return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
}
