import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
