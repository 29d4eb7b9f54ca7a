/**
 * Per-run TLS material for a local JVM server in secured mode (Solr's Jetty,
 * the HDFS mini cluster's web servers): a throwaway CA, a server certificate
 * for 127.0.0.1 and localhost signed by it, and the server's PKCS12 keystore,
 * all made with the openssl CLI in the server's own temp dir, so nothing
 * outlives stop(). Clients trust `caFile` (PEM).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { runProcess } from './run-process.js';

export interface ServerTlsMaterial {
  /** PEM of the per-run CA: what a client's `tls.ca_file` names. */
  readonly caFile: string;
  /** PKCS12 keystore with the server's key and its certificate chain (alias `server`). */
  readonly keystoreFile: string;
  /** The keystore's and its key's password (random hex). */
  readonly storePassword: string;
}

const TOOL_TIMEOUT_MS = 60_000;
/** Long enough for any test run or dev session; short enough that a leaked key is worthless soon. */
const CERT_DAYS = '2';

async function openssl(args: string[]): Promise<void> {
  const result = await runProcess('openssl', args, Date.now() + TOOL_TIMEOUT_MS);
  if (result.code !== 0) throw new Error(`openssl ${args[0] ?? ''} exited with ${result.code}:\n${result.output}`);
}

/**
 * Makes the material in `<dataDir>/tls` (owner-only). `caName` goes into the CA's subject so a certificate
 * seen in an error message says which dev server made it.
 */
export async function makeServerTls(dataDir: string, caName: string): Promise<ServerTlsMaterial> {
  const dir = path.join(dataDir, 'tls');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const storePassword = randomBytes(12).toString('hex');
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    CERT_DAYS,
    '-subj',
    `/CN=${caName}`,
  ]);
  // The names clients connect to: the servers listen on 127.0.0.1, and a client may say localhost.
  await fs.writeFile(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost']);
  await openssl([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    CERT_DAYS,
    '-extfile',
    file('server.ext'),
  ]);
  await openssl([
    'pkcs12',
    '-export',
    '-in',
    file('server.pem'),
    '-inkey',
    file('server.key'),
    '-certfile',
    file('ca.pem'),
    '-name',
    'server',
    '-out',
    file('server.keystore.p12'),
    '-passout',
    `pass:${storePassword}`,
  ]);
  return { caFile: file('ca.pem'), keystoreFile: file('server.keystore.p12'), storePassword };
}
