import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleValue } from '../../../shared/telemetry/test-metrics.js';
import { FileSourceFixture, waitFor } from './test-support/file-source-harness.js';

/**
 * Symlinks in watched directories: whoever can create a file there must not
 * be able to make the agent ship any file it can read, while Kubernetes'
 * /var/log/containers links into /var/log/pods keep working.
 */
describe('FileSource: follow_symlinks', () => {
  let fixture: FileSourceFixture;
  let secret: string;

  beforeEach(async () => {
    fixture = await FileSourceFixture.create();
    await mkdir(join(fixture.dir, 'etc'));
    secret = join(fixture.dir, 'etc', 'passwd');
    await writeFile(secret, 'root:x:0:0:root:/root:/bin/bash\n');
  });

  afterEach(async () => {
    const { problems } = fixture.consumer;
    await fixture.close();
    expect(problems).toEqual([]);
  });

  const refusals = () => sampleValue(fixture.telemetry.families, 'tributary_component_errors_total', { reason: 'symlink_refused' });
  /** Several rescans: long enough for a refused link to have been looked at again and again. */
  const rescans = () => sleep(300);

  it('13.14: a symlink to a file outside the include roots is refused, counted once and never read; an in-root link is read', async () => {
    await symlink(secret, join(fixture.logs, 'evil.log'));
    await writeFile(join(fixture.logs, 'app.log'), 'app line\n');
    await symlink(join(fixture.logs, 'app.log'), join(fixture.logs, 'alias.log'));
    await fixture.start();
    await waitFor('the app line', () => fixture.consumer.events.length === 1);
    await waitFor('the refusal to be counted', async () => (await refusals()) === 1);
    await rescans();

    expect(fixture.consumer.events.map((event) => event.body)).toEqual(['app line']);
    expect(await refusals()).toBe(1);
  });

  it('13.14: a symlinked directory leading outside the roots is refused too', async () => {
    await symlink(join(fixture.dir, 'etc'), join(fixture.logs, 'sub'));
    await writeFile(join(fixture.dir, 'etc', 'shadow.log'), 'secret hash\n');
    await fixture.start({ include: [join(fixture.logs, '**', '*.log')] });
    await waitFor('the refusal to be counted', async () => (await refusals()) === 1);
    await rescans();
    expect(fixture.consumer.events).toEqual([]);
  });

  it('13.14: Kubernetes layout: links in containers/ into pods/ are read when pods/ is a symlink root, under the link path', async () => {
    const containers = join(fixture.dir, 'containers');
    const podDir = join(fixture.dir, 'pods', 'shop_web-7d4b9c_0f1e2d3c-aaaa-bbbb-cccc-123456789abc', 'nginx');
    await mkdir(containers);
    await mkdir(podDir, { recursive: true });
    await writeFile(join(podDir, '0.log'), '2026-12-07T06:00:00.000000000Z stdout F served\n');
    const link = join(containers, 'web-7d4b9c_shop_nginx-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log');
    await symlink(join(podDir, '0.log'), link);
    await fixture.start({ include: [join(containers, '*.log')], format: 'cri', symlink_roots: [join(fixture.dir, 'pods')] });
    await waitFor('the container line', () => fixture.consumer.events.length === 1);

    const [event] = fixture.consumer.events;
    expect(event?.body).toBe('served');
    expect(event?.source.path).toBe(link);
    expect(await refusals()).toBe(0);
  });

  it('13.14: the same layout without pods/ among the roots is refused', async () => {
    const containers = join(fixture.dir, 'containers');
    await mkdir(containers);
    await symlink(secret, join(containers, 'pod_ns_c-0123.log'));
    await fixture.start({ include: [join(containers, '*.log')] });
    await waitFor('the refusal to be counted', async () => (await refusals()) === 1);
    await rescans();
    expect(fixture.consumer.events).toEqual([]);
  });

  it("13.14: follow_symlinks 'never' refuses even in-root links; 'always' follows any", async () => {
    await writeFile(join(fixture.logs, 'app.log'), 'app line\n');
    await symlink(join(fixture.logs, 'app.log'), join(fixture.logs, 'alias.log'));
    await symlink(secret, join(fixture.logs, 'outside.log'));
    const never = await fixture.start({ follow_symlinks: 'never' });
    await waitFor('both links refused', async () => (await refusals()) === 2);
    await rescans();
    expect(fixture.consumer.events.map((event) => [event.body, event.source.path])).toEqual([['app line', join(fixture.logs, 'app.log')]]);
    await never.stop();

    await fixture.start({ follow_symlinks: 'always' });
    await waitFor('the outside file', () => fixture.consumer.events.some((event) => event.body.startsWith('root:')));
  });
});
