import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../shared/telemetry/logger.js';
import { scrapeJobSchema } from './config.js';
import { JobTargets, parseFileSd, targetsFromGroups, type ScrapeTarget } from './targets.js';

const silent = silentLogger();

describe('targets', () => {
  it('derive URL, job and instance as Prometheus does, honouring __scheme__, __metrics_path__ and __param_', () => {
    const job = scrapeJobSchema.parse({ job_name: 'node', static_configs: [{ targets: ['a:9100'] }], params: { module: ['x'] } });
    const targets = targetsFromGroups(job, [
      { targets: ['a:9100', 'b:9100'], labels: { env: 'prod' } },
      { targets: ['c:443'], labels: { __scheme__: 'https', __metrics_path__: '/probe', __param_target: 'example.org', instance: 'probe-c', empty: '' } },
    ]);
    expect(targets.map(({ url, labels }) => ({ url, labels }))).toEqual([
      { url: 'http://a:9100/metrics?module=x', labels: { job: 'node', env: 'prod', instance: 'a:9100' } },
      { url: 'http://b:9100/metrics?module=x', labels: { job: 'node', env: 'prod', instance: 'b:9100' } },
      { url: 'https://c/probe?module=x&target=example.org', labels: { job: 'node', instance: 'probe-c' } },
    ]);
  });

  it('file_sd files in JSON and YAML parse, and errors name the file and element', () => {
    expect(parseFileSd('/sd/a.json', '[{"targets":["h:1"],"labels":{"team":"x"}}]')).toEqual([{ targets: ['h:1'], labels: { team: 'x' } }]);
    expect(parseFileSd('/sd/a.yml', '- targets: ["h:1", "h:2"]\n')).toEqual([{ targets: ['h:1', 'h:2'], labels: {} }]);
    expect(() => parseFileSd('/sd/b.json', '[{"targets":["no-port"]}]')).toThrow('/sd/b.json: 0.targets.0: a target is host:port');
    expect(() => parseFileSd('/sd/c.json', '[{')).toThrow(/^\/sd\/c\.json: not valid JSON/);
  });

  describe('file_sd reloading', () => {
    let dir: string | undefined;
    afterEach(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('follows added, changed, broken and removed files, keeping the last good targets of a broken one', async () => {
      dir = await mkdtemp(join(tmpdir(), 'file-sd-'));
      await writeFile(join(dir, 'one.json'), JSON.stringify([{ targets: ['one:1'] }]));
      const job = scrapeJobSchema.parse({
        job_name: 'sd',
        static_configs: [{ targets: ['static:9'] }],
        file_sd_configs: [{ files: [join(dir, '*.json')], refresh_interval: '100ms' }],
      });
      const seen: string[][] = [];
      const instances = (targets: ScrapeTarget[]) => targets.map((target) => target.labels.instance ?? '').sort();
      const targets = new JobTargets(job, (current) => seen.push(instances(current)), silent);
      await targets.start();
      const waitFor = (expected: string[]) => vi.waitFor(() => expect(seen.at(-1)).toEqual(expected), { timeout: 5_000, interval: 50 });
      try {
        expect(seen).toEqual([['one:1', 'static:9']]);
        await writeFile(join(dir, 'two.json'), JSON.stringify([{ targets: ['two:2', 'two:3'] }]));
        await waitFor(['one:1', 'static:9', 'two:2', 'two:3']);
        await writeFile(join(dir, 'two.json'), '[{"targets": [');
        await new Promise((resolve) => setTimeout(resolve, 400));
        expect(instances(targets.targets)).toEqual(['one:1', 'static:9', 'two:2', 'two:3']);
        await writeFile(join(dir, 'two.json'), JSON.stringify([{ targets: ['two:4'] }]));
        await waitFor(['one:1', 'static:9', 'two:4']);
        await rm(join(dir, 'one.json'));
        await waitFor(['static:9', 'two:4']);
      } finally {
        await targets.stop();
      }
    });
  });
});

describe('scrape job config', () => {
  it('defaults scrape_timeout to 10s, or to the interval when that is shorter, and rejects a longer one', () => {
    const job = (extra: Record<string, unknown>) => scrapeJobSchema.safeParse({ job_name: 'j', static_configs: [{ targets: ['a:1'] }], ...extra });
    expect(job({}).data?.scrape_timeout).toBe(10_000);
    expect(job({ scrape_interval: '1s' }).data?.scrape_timeout).toBe(1_000);
    expect(job({ scrape_interval: '1m', scrape_timeout: '30s' }).data?.scrape_timeout).toBe(30_000);
    expect(job({ scrape_interval: '5s', scrape_timeout: '6s' }).error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['scrape_timeout', 'scrape_timeout must not be longer than scrape_interval'],
    ]);
    expect(job({ static_configs: [] }).error?.issues[0]?.message).toBe('a job needs static_configs or file_sd_configs');
  });
});
