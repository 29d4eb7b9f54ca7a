import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml, validateConfig } from '../shared/config/load.js';
import { packageRoot } from '../shared/paths.js';
import { collectorConfigSchema } from './config.js';

describe('shipped example configuration', () => {
  it('13.19: deploy/examples/collector.yaml serves telemetry on loopback only', async () => {
    const file = join(packageRoot(), 'deploy', 'examples', 'collector.yaml');
    const config = validateConfig(collectorConfigSchema, parseYaml(await readFile(file, 'utf8'), file), file);
    expect(config.telemetry.listen_address).toBe('127.0.0.1');
  });
});
