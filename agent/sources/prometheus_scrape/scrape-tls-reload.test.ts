import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/telemetry/logger.js';
import { closeLocal, listenLocal } from '../../../shared/test-support/ports.js';
import { makeTestCertificates } from '../../../shared/test-support/tls-certificates.js';
import { waitFor } from '../../../shared/test-support/wait.js';
import { scrapeJobSchema } from './config.js';
import { loadScrapeClientOptions, scrapeTarget } from './scrape-client.js';

/**
 * A scrape job's `tls_config.ca_file` rotated while it runs, against a real node:https target that moves to a
 * certificate of a new CA: the next scrape after the reload trusts it, with no restart of the job.
 */
describe('scrape job while its tls_config.ca_file is rotated (real node:https target)', () => {
  it('refuses the rotated target with the old CA, then scrapes it once the new CA is loaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scrape-tls-reload-'));
    const server = createServer();
    let stopWatching = (): void => undefined;
    try {
      await mkdir(join(dir, 'ca1'));
      await mkdir(join(dir, 'ca2'));
      const [ca1, ca2] = await Promise.all([makeTestCertificates(join(dir, 'ca1'), 'metrics.test'), makeTestCertificates(join(dir, 'ca2'), 'metrics.test')]);
      server.setSecureContext({ key: ca1.key, cert: ca1.cert });
      server.on('request', (_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('rotated_gauge 7\n'));
      const port = await listenLocal(server);
      const caFile = join(dir, 'ca.pem');
      await copyFile(ca1.caFile, caFile);
      const lines: string[] = [];
      const logger = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
      const job = scrapeJobSchema.parse({
        job_name: 'rotated',
        scheme: 'https',
        tls_config: { ca_file: caFile, server_name: 'metrics.test' },
        static_configs: [{ targets: [`127.0.0.1:${port}`] }],
      });
      const options = await loadScrapeClientOptions(job, { intervalMs: 100, logger });
      stopWatching = options.close;
      const scrape = () => scrapeTarget(`https://127.0.0.1:${port}/metrics`, options, AbortSignal.timeout(5_000));

      expect((await scrape()).body).toBe('rotated_gauge 7\n');
      server.setSecureContext({ key: ca2.key, cert: ca2.cert });
      await expect(scrape()).rejects.toThrow(/: TLS failed: the target's certificate is not signed by a CA the client trusts: check tls_config\.ca_file \(/);
      await copyFile(ca2.caFile, caFile);
      await waitFor('the new CA loaded', () => lines.some((line) => line.includes('TLS files reloaded; new connections use them')));
      expect((await scrape()).body).toBe('rotated_gauge 7\n');
      expect(lines.map((line) => (JSON.parse(line) as { tls: string }).tls)).toEqual(['scrape_configs[rotated].tls_config']);
    } finally {
      stopWatching();
      await closeLocal(server);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
