import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml, validateConfig } from '../shared/config/load.js';
import { packageRoot } from '../shared/paths.js';
import { agentConfigSchema } from './config.js';

describe('shipped example configuration', () => {
  it('13.19: deploy/examples/agent.yaml serves telemetry on loopback only', async () => {
    const file = join(packageRoot(), 'deploy', 'examples', 'agent.yaml');
    const config = validateConfig(agentConfigSchema, parseYaml(await readFile(file, 'utf8'), file), file);
    expect(config.telemetry.listen_address).toBe('127.0.0.1');
  });

  it('#15: the commented-out telemetry TLS and auth in deploy/examples/agent.yaml is valid once uncommented', async () => {
    const file = join(packageRoot(), 'deploy', 'examples', 'agent.yaml');
    // Only the telemetry block's commented keys: `  # tls:`/`  # auth:` and their indented children.
    const text = (await readFile(file, 'utf8')).replace(/^ {2}# (tls:|auth:)$/gm, '  $1').replace(/^ {2}#( {2,}\S.*)$/gm, '  $1');
    const config = validateConfig(agentConfigSchema, parseYaml(text, file), file);
    expect(config.telemetry.tls).toEqual({ cert_file: '/etc/tributary/tls/tls.crt', key_file: '/etc/tributary/tls/tls.key' });
    expect(config.telemetry.auth).toEqual({
      basic_auth: { username: 'prometheus', password_file: '/run/secrets/tributary-telemetry-password' },
      probes: false,
    });
  });
});
