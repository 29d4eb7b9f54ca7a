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

const saslSchema = z
  .strictObject({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string().optional(),
    /** Read the password from a file (a mounted secret) instead of putting it in the config. */
    password_file: z.string().optional(),
  })
  .refine((sasl) => (sasl.password === undefined) !== (sasl.password_file === undefined), {
    message: 'set exactly one of password or password_file',
  });

export const kafkaConnectionSchema = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1),
  client_id: z.string().min(1).optional(),
  tls: tlsSchema.optional(),
  sasl: saslSchema.optional(),
  connection_timeout: duration({ min: 1 }).default(10_000),
  request_timeout: duration({ min: 1 }).default(30_000),
});

export type KafkaConnectionConfig = z.output<typeof kafkaConnectionSchema>;
