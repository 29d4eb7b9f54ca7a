import { readFile } from 'node:fs/promises';
import type { AgentOptions } from 'node:https';
import { z } from 'zod';
import { TributaryError, errorMessage } from '../errors.js';

/**
 * Client-side TLS and secret files for the HTTP outputs (Elasticsearch,
 * Alertmanager, webhooks), so every HTTP client reads the same keys the same
 * way and errors name the file, never its content.
 */
export const httpTlsSchema = z
  .strictObject({
    ca_file: z.string().min(1).optional(),
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    server_name: z.string().min(1).optional(),
    /** Only for test clusters with self-signed certificates; never in production. */
    insecure_skip_verify: z.boolean().default(false),
  })
  .refine((tls) => (tls.cert_file === undefined) === (tls.key_file === undefined), {
    message: 'cert_file and key_file go together',
    path: ['cert_file'],
  });

export type HttpTlsConfig = z.output<typeof httpTlsSchema>;

/** Reads a secret file; whitespace around it (a trailing newline) is not part of the secret. */
export async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    // The path is configuration, not a secret; the content never appears in messages.
    throw new TributaryError('CONFIG_UNREADABLE', `cannot read ${what} ${path}: ${errorMessage(error)}`, { cause: error });
  }
}

async function readTlsFile(path: string | undefined, what: string): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (error) {
    throw new TributaryError('CONFIG_UNREADABLE', `cannot read tls.${what} ${path}: ${errorMessage(error)}`, { cause: error });
  }
}

/** The TLS part of an https.Agent's options; without `tls`, Node's defaults (system CAs, verification on). */
export async function tlsAgentOptions(
  tls: HttpTlsConfig | undefined,
): Promise<Pick<AgentOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>> {
  const [ca, cert, key] = await Promise.all([
    readTlsFile(tls?.ca_file, 'ca_file'),
    readTlsFile(tls?.cert_file, 'cert_file'),
    readTlsFile(tls?.key_file, 'key_file'),
  ]);
  return {
    ...(ca && { ca }),
    ...(cert && { cert }),
    ...(key && { key }),
    ...(tls?.server_name !== undefined && { servername: tls.server_name }),
    rejectUnauthorized: !(tls?.insecure_skip_verify ?? false),
  };
}
