import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load.js';
import { TributaryError } from '../errors.js';
import { kafkaConnectionSchema, type OAuthBearerConfig } from './config.js';
import { jwtExpiry, oauthBearerTokenProvider } from './oauth-token.js';

function jwt(claims: Record<string, unknown>): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none' })}.${encode(claims)}.`;
}

function oauthConfig(sasl: Record<string, unknown>): OAuthBearerConfig {
  const config = validateConfig(kafkaConnectionSchema, { brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'oauthbearer', ...sasl } }, 'test.yaml');
  if (config.sasl?.mechanism !== 'oauthbearer') throw new Error('expected an oauthbearer config');
  return config.sasl;
}

describe('OAUTHBEARER token provider', () => {
  it('reads jwtExpiry from a JWT exp claim (seconds → ms) and undefined for opaque tokens or no exp', () => {
    expect(jwtExpiry(jwt({ sub: 'a', exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(jwtExpiry(jwt({ sub: 'a' }))).toBeUndefined();
    expect(jwtExpiry('opaque-token-value')).toBeUndefined();
    expect(jwtExpiry('a.%%%.c')).toBeUndefined();
  });

  it('re-reads a JWT token_file only once it is within refresh_before_expiry of exp', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-oauth-'));
    const file = join(dir, 'token');
    let now = 1_000_000_000_000;
    const first = jwt({ sub: 'a', exp: now / 1000 + 120 });
    await writeFile(file, `${first}\n`);
    const provider = oauthBearerTokenProvider(oauthConfig({ token_file: file, refresh_before_expiry: '60s' }), () => now);
    expect(await provider()).toEqual({ value: first });
    const second = jwt({ sub: 'a', exp: now / 1000 + 3600 });
    await writeFile(file, second);
    now += 59_000;
    // 61 s before exp: still the cached token.
    expect(await provider()).toEqual({ value: first });
    now += 1_000;
    // 60 s before exp: fetched again.
    expect(await provider()).toEqual({ value: second });
  });

  it('re-runs token_command for an opaque token every refresh_interval, without a shell, sharing concurrent fetches', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-oauth-'));
    const counter = join(dir, 'count');
    await writeFile(counter, '0');
    // Each run bumps a counter file and prints `token-<n>`; `$(...)`-like text in argv stays literal (no shell).
    const script = `const fs=require('fs');const n=Number(fs.readFileSync(${JSON.stringify(counter)},'utf8'))+1;fs.writeFileSync(${JSON.stringify(counter)},String(n));process.stdout.write('token-'+n+'\\n')`;
    let now = 0;
    const provider = oauthBearerTokenProvider(
      oauthConfig({ token_command: [process.execPath, '-e', script, '$(rm -rf /)'], refresh_interval: '5m' }),
      () => now,
    );
    const concurrent = await Promise.all([provider(), provider(), provider()]);
    expect(concurrent).toEqual([{ value: 'token-1' }, { value: 'token-1' }, { value: 'token-1' }]);
    now += 299_999;
    expect(await provider()).toEqual({ value: 'token-1' });
    now += 1;
    expect(await provider()).toEqual({ value: 'token-2' });
  });

  it('a failing, hanging or empty command or a missing file is a TributaryError naming the key', async () => {
    const failing = oauthBearerTokenProvider(oauthConfig({ token_command: [process.execPath, '-e', 'process.stderr.write("no session");process.exit(3)'] }));
    await expect(failing()).rejects.toThrow(
      new TributaryError('CONFIG_UNREADABLE', `kafka.sasl.token_command (${process.execPath}) exited with 3: no session`, { retriable: true }),
    );
    const hanging = oauthBearerTokenProvider(oauthConfig({ token_command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], command_timeout: '200ms' }));
    await expect(hanging()).rejects.toThrow(`kafka.sasl.token_command (${process.execPath}) did not finish within 200 ms`);
    const empty = oauthBearerTokenProvider(oauthConfig({ token_command: [process.execPath, '-e', ''] }));
    await expect(empty()).rejects.toThrow('kafka.sasl.token_command gave an empty OAUTHBEARER token');
    const missing = oauthBearerTokenProvider(oauthConfig({ token_file: '/nonexistent/token' }));
    await expect(missing()).rejects.toThrow(/^cannot read kafka\.sasl\.token_file \/nonexistent\/token: /);
  });

  it('config: exactly one of token_file and token_command; password keys are not oauthbearer keys', () => {
    const problems = (sasl: Record<string, unknown>): string => {
      try {
        validateConfig(kafkaConnectionSchema, { brokers: ['127.0.0.1:9092'], sasl }, 'c.yaml');
      } catch (error) {
        return (error as Error).message;
      }
      return 'valid';
    };
    expect(problems({ mechanism: 'oauthbearer' })).toContain('c.yaml: sasl: set exactly one of token_file or token_command');
    expect(problems({ mechanism: 'oauthbearer', token_file: '/t', token_command: ['x'] })).toContain(
      'c.yaml: sasl: set exactly one of token_file or token_command',
    );
    expect(problems({ mechanism: 'oauthbearer', token_file: '/t', password: 'S3cret' })).toContain('c.yaml: sasl.password: unknown key');
    expect(problems({ mechanism: 'oauthbearer', token_file: '/t', password: 'S3cret' })).not.toContain('S3cret');
    expect(problems({ mechanism: 'scram-sha-512', username: 'u' })).toContain('c.yaml: sasl: set exactly one of password or password_file');
    expect(problems({ mechanism: 'oauthbearer', token_command: ['/usr/bin/token'] })).toBe('valid');
  });
});
