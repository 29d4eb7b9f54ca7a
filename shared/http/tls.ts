import type { AgentOptions } from 'node:https';
import { z } from 'zod';
import { readTlsFiles } from '../secret-files.js';

export { readSecretFile } from '../secret-files.js';

/**
 * Client-side TLS and secret files for the HTTP clients (Elasticsearch, Solr,
 * Alertmanager, webhooks, scrape targets), so every HTTP client reads the same
 * keys the same way and errors name the file, never its content.
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

/** The TLS part of an https.Agent's (or one request's) options. */
export type TlsClientOptions = Pick<AgentOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;

/**
 * {@link TlsClientOptions} from a config's TLS keys; without `tls`, Node's defaults (system CAs, verification on).
 * `keyPrefix` is where the keys sit in the config, for errors naming an unreadable file.
 */
export async function tlsAgentOptions(tls: HttpTlsConfig | undefined, keyPrefix = 'tls'): Promise<TlsClientOptions> {
  return {
    ...(await readTlsFiles(tls, keyPrefix)),
    ...(tls?.server_name !== undefined && { servername: tls.server_name }),
    rejectUnauthorized: !(tls?.insecure_skip_verify ?? false),
  };
}
