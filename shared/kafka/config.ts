import { z } from 'zod';
import { duration } from '../config/schema.js';

const tlsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    ca_file: z.string().optional(),
    cert_file: z.string().optional(),
    key_file: z.string().optional(),
    /** Only for test clusters with self-signed certificates; never in production. */
    insecure_skip_verify: z.boolean().default(false),
    server_name: z.string().optional(),
    /** How often ca_file, cert_file and key_file are checked for changes; new connections use the files as they are now. */
    reload_interval: duration({ min: 100 }).default(10_000),
  })
  // Files without `enabled: true` used to connect in plaintext, SASL password included: TLS settings without TLS are a mistake.
  .superRefine((tls, ctx) => {
    if (tls.enabled) return;
    for (const key of ['ca_file', 'cert_file', 'key_file', 'server_name'] as const) {
      if (tls[key] !== undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} is set but tls.enabled is not true: set enabled: true (or remove the TLS settings)` });
    }
    if (tls.insecure_skip_verify)
      ctx.addIssue({ code: 'custom', path: ['insecure_skip_verify'], message: 'insecure_skip_verify is set but tls.enabled is not true' });
  });

const passwordSaslSchema = z.strictObject({
  mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
  username: z.string().min(1),
  password: z.string().optional(),
  /** Read the password from a file (a mounted secret) instead of putting it in the config. */
  password_file: z.string().optional(),
});

/**
 * OAUTHBEARER, as managed Kafka services with token auth want it: the token comes from a file (a sidecar
 * keeps it fresh) or a command (run without a shell, its stdout is the token), fetched again before it expires.
 */
const oauthBearerSaslSchema = z.strictObject({
  mechanism: z.literal('oauthbearer'),
  token_file: z.string().min(1).optional(),
  /** argv of a command printing the token on stdout: `[gcloud, auth, print-access-token]`; no shell. */
  token_command: z.tuple([z.string().min(1)], z.string()).optional(),
  /** How long a token that is no JWT (or has no `exp`) is used before it is fetched again. */
  refresh_interval: duration({ min: 1_000 }).default(300_000),
  /** A JWT is fetched again once it expires within this margin. */
  refresh_before_expiry: duration({ min: 0 }).default(60_000),
  /** The command is killed after this long. */
  command_timeout: duration({ min: 1 }).default(10_000),
});

const saslSchema = z.discriminatedUnion('mechanism', [passwordSaslSchema, oauthBearerSaslSchema]).superRefine((sasl, ctx) => {
  if (sasl.mechanism === 'oauthbearer') {
    if ((sasl.token_file === undefined) === (sasl.token_command === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of token_file or token_command' });
  } else if ((sasl.password === undefined) === (sasl.password_file === undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of password or password_file' });
  }
});

export type KafkaSaslConfig = z.output<typeof saslSchema>;
export type OAuthBearerConfig = z.output<typeof oauthBearerSaslSchema>;

export const kafkaConnectionSchema = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1),
  client_id: z.string().min(1).optional(),
  tls: tlsSchema.optional(),
  sasl: saslSchema.optional(),
  connection_timeout: duration({ min: 1 }).default(10_000),
  request_timeout: duration({ min: 1 }).default(30_000),
});

export type KafkaConnectionConfig = z.output<typeof kafkaConnectionSchema>;
