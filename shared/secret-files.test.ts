import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from './errors.js';
import { readSecretFile, readSecretFileSync, readTlsFiles } from './secret-files.js';

describe('secret and certificate files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-secrets-'));
    await writeFile(join(dir, 'password'), '  s3cret\n');
    await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a secret without the whitespace around it, async and sync', async () => {
    expect(await readSecretFile(join(dir, 'password'), 'sasl.password_file')).toBe('s3cret');
    expect(readSecretFileSync(join(dir, 'password'), 'sasl.password_file')).toBe('s3cret');
  });

  it('names the key and the path of a file it cannot read, as a typed error', async () => {
    const missing = join(dir, 'absent');
    await expect(readSecretFile(missing, 'auth.delegation_token_file')).rejects.toThrow(
      new RegExp(`^cannot read auth\\.delegation_token_file ${missing}: ENOENT`),
    );
    expect(() => readSecretFileSync(missing, 'kafka.sasl.password_file')).toThrow(TributaryError);
    // A directory where a file was expected: still a typed error naming it.
    await expect(readSecretFile(dir, 'basic_auth.password_file')).rejects.toBeInstanceOf(TributaryError);
  });

  it('reads the TLS files that are configured and leaves the others absent', async () => {
    expect(await readTlsFiles(undefined, 'tls')).toEqual({});
    const files = await readTlsFiles({ ca_file: join(dir, 'ca.pem') }, 'tls');
    expect(Object.keys(files)).toEqual(['ca']);
    expect(files.ca?.toString()).toContain('BEGIN CERTIFICATE');
    await expect(readTlsFiles({ key_file: join(dir, 'nope.pem') }, 'outputs.es.tls')).rejects.toThrow(/^cannot read outputs\.es\.tls\.key_file /);
  });
});
