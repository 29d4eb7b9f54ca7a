/**
 * The secured listeners of a local broker (`startLocalKafka({ secure: true })`):
 * a per-run CA, the broker's keystore and truststore, a client certificate,
 * one SASL user, and the server.properties lines that serve them. Everything
 * is made fresh in the broker's temp dir, so nothing secret outlives stop().
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { jdkTool, runProcess } from '../jvm/run-process.js';

/** What a client needs to reach the secured listeners. */
export interface LocalKafkaSecurity {
  /** SASL_SSL listener serving SCRAM-SHA-256, SCRAM-SHA-512, PLAIN and OAUTHBEARER. */
  readonly saslSslBrokers: string[];
  /** SSL listener with `ssl.client.auth=required` (mTLS): a client must present a certificate signed by `caFile`. */
  readonly mtlsBrokers: string[];
  /** PEM of the per-run CA that signed the broker's and the client's certificates. */
  readonly caFile: string;
  /** PEM client certificate (CN=tributary-client) and its unencrypted PKCS#8 key, for the mTLS listener. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** One user, valid for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  readonly username: string;
  readonly password: string;
  /**
   * OAUTHBEARER uses Kafka's unsecured JWS validator (`OAuthBearerUnsecuredValidatorCallbackHandler`): any
   * unsigned JWT (`alg: none`) with a `sub` and an `exp` in the future is accepted. See unsecuredJwt().
   */
  readonly oauthbearer: { readonly validator: 'unsecured-jws' };
}

export interface SecurePorts {
  saslSslPort: number;
  mtlsPort: number;
}

/** Files and secrets made once per broker; kept across restart() (same temp dir). */
export interface SecureMaterial {
  dir: string;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  keystoreFile: string;
  truststoreFile: string;
  storePassword: string;
  username: string;
  password: string;
}

const USERNAME = 'tributary';
const TOOL_TIMEOUT_MS = 60_000;
const CERT_DAYS = '2';

/** Every path passed is absolute, so the tools need no working dir. */
async function run(command: string, args: string[]): Promise<void> {
  const result = await runProcess(command, args, Date.now() + TOOL_TIMEOUT_MS);
  if (result.code !== 0) throw new Error(`${path.basename(command)} ${args[0] ?? ''} exited with ${result.code}:\n${result.output}`);
}

/**
 * A CA, a broker certificate for 127.0.0.1 and localhost (the names the listeners advertise), a client
 * certificate, the broker's PKCS12 keystore (openssl) and truststore (keytool: a PKCS12 trust store needs Java's
 * trusted-certificate attribute, which openssl does not write), and random passwords. A test rotating the broker's
 * stores makes a second set with the first one's `storePassword`, so the broker's settings still open them.
 */
export async function makeSecureMaterial(dataDir: string, storePassword = randomBytes(12).toString('hex')): Promise<SecureMaterial> {
  const dir = path.join(dataDir, 'tls');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => run('openssl', args);

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
    '/CN=Tributary local Kafka CA',
  ]);
  const signed = async (name: string, subject: string, extensions: string) => {
    await fs.writeFile(file(`${name}.ext`), extensions);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', subject]);
    await openssl([
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file(`${name}.pem`),
      '-days',
      CERT_DAYS,
      '-extfile',
      file(`${name}.ext`),
    ]);
  };
  await signed('broker', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await signed('client', '/CN=tributary-client', 'extendedKeyUsage=clientAuth\n');
  await openssl([
    'pkcs12',
    '-export',
    '-in',
    file('broker.pem'),
    '-inkey',
    file('broker.key'),
    '-certfile',
    file('ca.pem'),
    '-name',
    'broker',
    '-out',
    file('broker.keystore.p12'),
    '-passout',
    `pass:${storePassword}`,
  ]);
  await run(jdkTool('keytool'), [
    '-importcert',
    '-noprompt',
    '-alias',
    'ca',
    '-file',
    file('ca.pem'),
    '-keystore',
    file('broker.truststore.p12'),
    '-storetype',
    'PKCS12',
    '-storepass',
    storePassword,
  ]);
  return {
    dir,
    caFile: file('ca.pem'),
    clientCertFile: file('client.pem'),
    clientKeyFile: file('client.key'),
    keystoreFile: file('broker.keystore.p12'),
    truststoreFile: file('broker.truststore.p12'),
    storePassword,
    username: USERNAME,
    password: randomBytes(12).toString('hex'),
  };
}

/** The `--add-scram` arguments of `kafka.tools.StorageTool format`: SCRAM credentials go into the bootstrap metadata. */
export function scramFormatArgs(material: SecureMaterial): string[] {
  return ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => ['--add-scram', `${mechanism}=[name=${material.username},password=${material.password}]`]);
}

/** JAAS values quote their option values; the password is hex, so nothing needs escaping. */
function jaas(loginModule: string, options: Record<string, string> = {}): string {
  const rendered = Object.entries(options)
    .map(([key, value]) => ` ${key}="${value}"`)
    .join('');
  return `${loginModule} required${rendered};`;
}

/**
 * The listeners besides PLAINTEXT (which stays for the controller, inter-broker traffic, the readiness probe
 * and every plaintext test) and their settings. Listener names are SASL_SSL and MTLS; per-listener keys are
 * `listener.name.<lower-case name>.*`.
 */
export function secureProperties(material: SecureMaterial, ports: SecurePorts): { listeners: string[]; protocolMap: string[]; props: Record<string, string> } {
  const sasl = 'listener.name.sasl_ssl';
  return {
    listeners: [`SASL_SSL://127.0.0.1:${ports.saslSslPort}`, `MTLS://127.0.0.1:${ports.mtlsPort}`],
    protocolMap: ['SASL_SSL:SASL_SSL', 'MTLS:SSL'],
    props: {
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': material.keystoreFile,
      'ssl.keystore.password': material.storePassword,
      'ssl.key.password': material.storePassword,
      'ssl.truststore.type': 'PKCS12',
      'ssl.truststore.location': material.truststoreFile,
      'ssl.truststore.password': material.storePassword,
      // Only the MTLS listener asks for a client certificate; SASL_SSL clients authenticate by SASL alone.
      'listener.name.mtls.ssl.client.auth': 'required',
      [`${sasl}.sasl.enabled.mechanisms`]: 'SCRAM-SHA-256,SCRAM-SHA-512,PLAIN,OAUTHBEARER',
      // PLAIN users live in the JAAS config (user_<name>="<password>"); SCRAM users in the metadata log (format --add-scram).
      [`${sasl}.plain.sasl.jaas.config`]: jaas('org.apache.kafka.common.security.plain.PlainLoginModule', { [`user_${material.username}`]: material.password }),
      [`${sasl}.scram-sha-256.sasl.jaas.config`]: jaas('org.apache.kafka.common.security.scram.ScramLoginModule'),
      [`${sasl}.scram-sha-512.sasl.jaas.config`]: jaas('org.apache.kafka.common.security.scram.ScramLoginModule'),
      // No sasl.server.callback.handler.class for OAUTHBEARER: Kafka then validates with
      // OAuthBearerUnsecuredValidatorCallbackHandler (unsigned JWTs, checks sub and exp), the test validator we
      // want. The login module's own (unused, server side) token needs a subject.
      [`${sasl}.oauthbearer.sasl.jaas.config`]: jaas('org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule', {
        unsecuredLoginStringClaim_sub: 'broker',
      }),
    },
  };
}

export function securityOf(material: SecureMaterial, ports: SecurePorts): LocalKafkaSecurity {
  return {
    saslSslBrokers: [`127.0.0.1:${ports.saslSslPort}`],
    mtlsBrokers: [`127.0.0.1:${ports.mtlsPort}`],
    caFile: material.caFile,
    clientCertFile: material.clientCertFile,
    clientKeyFile: material.clientKeyFile,
    username: material.username,
    password: material.password,
    oauthbearer: { validator: 'unsecured-jws' },
  };
}

/**
 * An unsigned JWT (`alg: none`, empty signature) that the broker's unsecured validator accepts until `exp`:
 * for tests and for `npm run kafka -- --secure`. Never a real credential.
 */
export function unsecuredJwt(subject: string, lifetimeMs: number, nowMs = Date.now()): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const iat = Math.floor(nowMs / 1000);
  return `${encode({ alg: 'none' })}.${encode({ sub: subject, iat, exp: iat + Math.ceil(lifetimeMs / 1000) })}.`;
}
