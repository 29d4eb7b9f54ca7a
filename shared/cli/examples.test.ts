import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../agent/config.js';
import { collectorConfigSchema } from '../../collector/config.js';
import { parseYaml, validateConfig } from '../config/load.js';
import { packageRoot } from '../paths.js';

describe('shipped example configurations', () => {
  it.each([
    ['agent.yaml', agentConfigSchema],
    ['collector.yaml', collectorConfigSchema],
  ] as const)('13.19: deploy/examples/%s serves telemetry on loopback only', async (name, schema) => {
    const file = join(packageRoot(), 'deploy', 'examples', name);
    const config = validateConfig(schema, parseYaml(await readFile(file, 'utf8'), file), file);
    expect(config.telemetry.listen_address).toBe('127.0.0.1');
  });
});
