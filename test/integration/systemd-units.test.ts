import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../shared/paths.js';

/**
 * The systemd files in deploy/systemd, checked with systemd's own tools (package `systemd`, installed by
 * deploy/dev/system-packages.sh). No systemd runs as PID 1 here, so the units are verified and scored, not
 * started; the sysusers.d and tmpfiles.d entries are applied for real to a scratch root.
 */
const systemdDir = join(packageRoot(), 'deploy', 'systemd');
const units = ['tributary-agent.service', 'tributary-collector.service'] as const;

function run(command: string, args: readonly string[]): { code: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: systemdDir, encoding: 'utf8' });
  if (result.error) throw new Error(`${command} cannot run (${result.error.message}); install it with: bash deploy/dev/system-packages.sh`);
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The unit's settings of its [Service] section, `Key` → every value it is given (in order). */
async function serviceSettings(unit: string): Promise<Map<string, string[]>> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const line of (await readFile(join(systemdDir, unit), 'utf8')).split('\n')) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1] ?? '';
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (section === 'Service' && setting?.[1] !== undefined) settings.set(setting[1], [...(settings.get(setting[1]) ?? []), setting[2] ?? '']);
  }
  return settings;
}

describe('deploy/systemd units', () => {
  it('pass systemd-analyze verify', () => {
    expect(run('systemd-analyze', ['verify', '--man=no', ...units])).toEqual({ code: 0, output: '' });
  });

  it.each(units)('%s scores as OK (below 2.0) on systemd-analyze security', (unit) => {
    const { code, output } = run('systemd-analyze', ['security', '--offline=true', unit]);
    expect(code, output).toBe(0);
    const exposure = Number(new RegExp(`Overall exposure level for ${unit}: ([0-9.]+) OK`).exec(output)?.[1]);
    expect(exposure, output).toBeLessThan(2);
  });

  it.each(units)('%s runs sandboxed as tributary, without capabilities, writing only /var/lib/tributary', async (unit) => {
    const settings = await serviceSettings(unit);
    const expected: Record<string, string[]> = {
      User: ['tributary'],
      NoNewPrivileges: ['true'],
      CapabilityBoundingSet: [''],
      AmbientCapabilities: [''],
      ProtectSystem: ['strict'],
      ProtectHome: ['true'],
      PrivateTmp: ['true'],
      StateDirectory: ['tributary'],
      ReadWritePaths: ['/var/lib/tributary'],
      KillSignal: ['SIGTERM'],
    };
    for (const [key, values] of Object.entries(expected)) expect(settings.get(key), key).toEqual(values);
    // Node's JIT needs writable executable memory: this setting would crash it.
    expect(settings.has('MemoryDenyWriteExecute')).toBe(false);
    // Only the agent reads logs, through the adm group rather than a capability.
    expect(settings.get('SupplementaryGroups')).toEqual(unit === 'tributary-agent.service' ? ['adm'] : undefined);
  });
});

describe('deploy/systemd sysusers.d and tmpfiles.d entries, applied to a scratch root', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tributary-systemd-root-'));
    // Where a package installs them, so the tools find them as they would on a host.
    await mkdir(join(root, 'etc'));
    await mkdir(join(root, 'usr', 'lib', 'sysusers.d'), { recursive: true });
    await mkdir(join(root, 'usr', 'lib', 'tmpfiles.d'), { recursive: true });
    await copyFile(join(systemdDir, 'tributary.sysusers.conf'), join(root, 'usr', 'lib', 'sysusers.d', 'tributary.conf'));
    await copyFile(join(systemdDir, 'tributary.tmpfiles.conf'), join(root, 'usr', 'lib', 'tmpfiles.d', 'tributary.conf'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('create the tributary system user, then /var/lib/tributary and /etc/tributary owned as the units expect', async () => {
    const dryRun = run('systemd-sysusers', ['--dry-run', `--root=${root}`]);
    expect(dryRun.code, dryRun.output).toBe(0);
    expect(dryRun.output).toContain("Creating user 'tributary' (Tributary observability pipeline)");

    expect(run('systemd-sysusers', [`--root=${root}`]).code).toBe(0);
    const passwd = (await readFile(join(root, 'etc', 'passwd'), 'utf8')).split('\n').find((line) => line.startsWith('tributary:'));
    const [, , uid, gid, , home, shell] = passwd?.split(':') ?? [];
    expect({ home, shell }).toEqual({ home: '/var/lib/tributary', shell: '/usr/sbin/nologin' });
    // A system account: below the first regular user id.
    expect(Number(uid)).toBeLessThan(1000);

    const tmpfiles = run('systemd-tmpfiles', ['--create', `--root=${root}`]);
    expect(tmpfiles).toEqual({ code: 0, output: '' });
    const state = await stat(join(root, 'var', 'lib', 'tributary'));
    expect({ uid: state.uid, gid: state.gid, mode: (state.mode & 0o7777).toString(8), directory: state.isDirectory() }).toEqual({
      uid: Number(uid),
      gid: Number(gid),
      mode: '750',
      directory: true,
    });
    const config = await stat(join(root, 'etc', 'tributary'));
    expect({ uid: config.uid, gid: config.gid, mode: (config.mode & 0o7777).toString(8) }).toEqual({ uid: 0, gid: Number(gid), mode: '750' });
  });
});
