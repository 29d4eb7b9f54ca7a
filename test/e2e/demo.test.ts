import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROCESS_NODE_FLAGS } from '../../shared/process/node-flags.js';
import { waitFor } from '../helpers/kafka.js';
import { CLI } from '../helpers/processes.js';

/** The README's first command: `tributary demo` runs the whole pipeline on its own broker and stops cleanly on Ctrl-C. */
describe('tributary demo (the compiled CLI)', () => {
  it('tails its generated log into records, fires its alert rule, and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [...PROCESS_NODE_FLAGS, CLI, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('a record from the generated log', () => (/^record [0-9a-f]{12} .*: .*GET \/api\/orders/m.test(stdout) ? true : undefined), 180_000, 250);
      await waitFor(
        'the demo alert firing',
        () => (/^alert firing InventoryErrors: \d+ inventory lookup failures in 10s$/m.test(stdout) ? true : undefined),
        90_000,
        250,
      );
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toContain('demo: stopped cleanly');
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${String(error)}\nstdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`);
    }
  }, 300_000);
});
