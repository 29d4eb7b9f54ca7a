import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../shared/paths.js';
import { runCli } from '../helpers/processes.js';

const fixture = (name: string) => join(packageRoot(), 'test', 'fixtures', 'config', name);

describe('tributary validate (the compiled CLI)', () => {
  it('accepts a valid file and says what it is', async () => {
    const result = await runCli(['validate', '--config', fixture('agent-valid.yaml')]);
    expect(result).toMatchObject({ code: 0, stdout: `${fixture('agent-valid.yaml')}: valid agent configuration\n` });
  });

  it('names the key with the wrong type and what was expected', async () => {
    const result = await runCli(['validate', '--config', fixture('agent-wrong-type.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${fixture('agent-wrong-type.yaml')}: framer.max_events: Invalid input: expected number, received string`);
  });

  it('names the unknown key', async () => {
    const result = await runCli(['validate', '--config', fixture('agent-unknown-key.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${fixture('agent-unknown-key.yaml')}: sources.app.start_from: unknown key`);
  });

  it('names the key of an unknown component type and the types there are', async () => {
    const result = await runCli(['validate', '--config', fixture('agent-unknown-type.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${fixture('agent-unknown-type.yaml')}: sources.app.type: unknown source type "journald"; known types are: file, prometheus_scrape, host_metrics`,
    );
  });

  it('names every missing required key', async () => {
    const result = await runCli(['validate', '--config', fixture('collector-missing-key.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${fixture('collector-missing-key.yaml')}: kafka: required key is missing (expected object)`);
    expect(result.stderr).toContain(`${fixture('collector-missing-key.yaml')}: outputs.local.path: required key is missing (expected string)`);
  });

  it('names a file that does not exist', async () => {
    const result = await runCli(['validate', '--config', '/nonexistent/agent.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot read configuration file /nonexistent/agent.yaml');
  });

  it('fails start-up on a bad config before touching Kafka', async () => {
    const result = await runCli(['agent', '--config', fixture('agent-unknown-key.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('sources.app.start_from: unknown key');
  });
});

describe('shipped example configurations', () => {
  it.each(['agent.yaml', 'collector.yaml'])('deploy/examples/%s is valid', async (name) => {
    const file = join(packageRoot(), 'deploy', 'examples', name);
    const result = await runCli(['validate', '--config', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('tributary validate never prints a secret, and fails fast on hostile files', () => {
  const secret = 'Tr0ub4dor-and-3';
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-validate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function validate(name: string, text: string) {
    const file = join(dir, name);
    await writeFile(file, text);
    return { file, result: await runCli(['validate', '--config', file]) };
  }

  it('13.18: a brace typo that turns the SASL password into a key is reported without the password', async () => {
    // `password:` lost to a typo inside the braces: the password is parsed as a mapping key with no value.
    const text = [
      'kafka:',
      "  brokers: ['127.0.0.1:9092']",
      `  sasl: {mechanism: plain, username: bob, ${secret}}`,
      'outputs:',
      '  local: {type: file, path: /tmp/out.jsonl}',
      '',
    ].join('\n');
    const { file, result } = await validate('brace-typo.yaml', text);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: kafka.sasl.<redacted>: unknown key (its name is not shown`);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('13.18: a password moved into braces, a typo beside it, and a YAML syntax error never show it either', async () => {
    const base = "kafka:\n  brokers: ['127.0.0.1:9092']\n";
    for (const sasl of [
      `{mechanism: plain, username: bob, password: {${secret}}}`,
      `{mechanism: plian, username: bob, password: ${secret}}`,
      `{password: ${secret}}}`,
    ]) {
      const { result } = await validate('sasl.yaml', `${base}  sasl: ${sasl}\noutputs: {}\n`);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
  });

  it('13.16: a timeout too long for a Node timer is refused with the allowed range', async () => {
    const { file, result } = await validate('timeout.yaml', "kafka:\n  brokers: ['127.0.0.1:9092']\n  request_timeout: 30d\noutputs: {}\n");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: kafka.request_timeout: expected a duration from 1ms to 24d20h31m23s647ms`);
  });

  it('13.17: nested complex keys fail fast as a configuration error, not a stack trace', async () => {
    let nested = 'a';
    for (let depth = 0; depth < 40; depth++) nested = `{${nested}: 1}`;
    const started = Date.now();
    const { file, result } = await validate('complex.yaml', `${nested}: 1\n`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: (top level): YAML line 1, column 1: mapping keys must be plain names`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('13.13: kafka.tls files without enabled: true are refused', async () => {
    const { file, result } = await validate('tls.yaml', "kafka:\n  brokers: ['127.0.0.1:9092']\n  tls: {ca_file: /etc/ca.pem}\noutputs: {}\n");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: kafka.tls.ca_file: ca_file is set but tls.enabled is not true`);
  });
});
