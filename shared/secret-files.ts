import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { TributaryError, errorMessage } from './errors.js';

/**
 * Reading secret and certificate files, once for every client (Kafka, the
 * HTTP sinks and notifiers, scrape targets, WebHDFS tokens): whitespace around
 * a secret (a trailing newline) is not part of it, and an error names the key
 * and the path, never the content.
 */

function unreadable(what: string, path: string, error: unknown): TributaryError {
  // The path is configuration, not a secret; the content never appears in messages.
  return new TributaryError('CONFIG_UNREADABLE', `cannot read ${what} ${path}: ${errorMessage(error)}`, { cause: error });
}

/** A secret (password, token) from a file, re-read by callers when it may have been rotated. */
export async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    throw unreadable(what, path, error);
  }
}

/** {@link readSecretFile} for clients configured synchronously (kafkajs takes its TLS and SASL options up front). */
export function readSecretFileSync(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw unreadable(what, path, error);
  }
}

/** A certificate or key file, as bytes (PEM or DER: TLS parses it). */
export async function readCertificateFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw unreadable(what, path, error);
  }
}

/** The `ca_file` / `cert_file` / `key_file` trio every TLS config has, read together; absent files stay absent. */
export async function readTlsFiles(
  tls: { readonly ca_file?: string | undefined; readonly cert_file?: string | undefined; readonly key_file?: string | undefined } | undefined,
  keyPrefix: string,
): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  const read = (path: string | undefined, key: string) => (path === undefined ? undefined : readCertificateFile(path, `${keyPrefix}.${key}`));
  const [ca, cert, key] = await Promise.all([read(tls?.ca_file, 'ca_file'), read(tls?.cert_file, 'cert_file'), read(tls?.key_file, 'key_file')]);
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}
