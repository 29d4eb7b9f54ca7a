import { lstat, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoint-store.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tributary-checkpoint-'));
}

/** A stream resumed from the file's checkpoint whose one range, up to `offset`, Kafka acknowledged. */
function delivered(store: CheckpointStore, fileId: string, path: string, offset: number): void {
  store.track(fileId, path, store.get(fileId)?.offset ?? 0).register(offset, 1)({ status: 'delivered' });
}

describe('CheckpointStore', () => {
  it('persists offsets and reloads them', async () => {
    const dir = await tempDir();
    const store = CheckpointStore.forDataDir(dir);
    delivered(store, '1:42', '/var/log/app.log', 1200);
    await store.flush();
    const reloaded = CheckpointStore.forDataDir(dir);
    await reloaded.load();
    expect(reloaded.get('1:42')).toMatchObject({ path: '/var/log/app.log', offset: 1200 });
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  it('a stream behind another never moves the checkpoint back (a rotated file resumed while its first stream was in flight)', async () => {
    const store = CheckpointStore.forDataDir(await tempDir());
    const first = store.track('1:42', '/a.log', 0);
    const inFlight = first.register(500, 5);
    const resumed = store.track('1:42', '/a.log.1', 0);
    inFlight({ status: 'delivered' });
    expect(store.get('1:42')?.offset).toBe(500);
    resumed.register(300, 3)({ status: 'delivered' });
    expect(store.get('1:42')?.offset).toBe(500);
    resumed.register(700, 4)({ status: 'delivered' });
    expect(store.get('1:42')).toMatchObject({ path: '/a.log.1', offset: 700 });
  });

  it('keeps the offset but follows a rename', async () => {
    const store = CheckpointStore.forDataDir(await tempDir());
    delivered(store, '1:42', '/a.log', 500);
    const resumed = store.track('1:42', '/a.log.1', 500);
    expect(store.get('1:42')).toMatchObject({ path: '/a.log', offset: 500 });
    resumed.register(600, 1)({ status: 'delivered' });
    expect(store.get('1:42')).toMatchObject({ path: '/a.log.1', offset: 600 });
  });

  it('a stream that starts below the checkpoint (truncated while unread) restarts it, and older streams no longer move it', async () => {
    const store = CheckpointStore.forDataDir(await tempDir());
    const first = store.track('1:42', '/a.log', 0);
    first.register(1000, 10)({ status: 'delivered' });
    const inFlight = first.register(1500, 5);
    const restarted = store.track('1:42', '/a.log', 0);
    expect(store.get('1:42')?.offset).toBe(0);
    inFlight({ status: 'delivered' });
    expect(store.get('1:42')?.offset).toBe(0);
    restarted.register(200, 2)({ status: 'delivered' });
    expect(store.get('1:42')?.offset).toBe(200);
  });

  it('counts what a stream commits, and holds the checkpoint at a refused range', async () => {
    const store = CheckpointStore.forDataDir(await tempDir());
    const commits: number[] = [];
    const held: number[] = [];
    const stream = store.track('1:42', '/a.log', 0, { onCommit: ({ events }) => commits.push(events), onHeld: ({ start }) => held.push(start) });
    const acks = [stream.register(100, 1), stream.register(200, 2), stream.register(300, 3)];
    acks[2]?.({ status: 'delivered' });
    acks[0]?.({ status: 'delivered' });
    acks[1]?.({ status: 'failed', reason: 'kafka_rejected' });
    expect(store.get('1:42')?.offset).toBe(100);
    expect(commits).toEqual([1]);
    expect(held).toEqual([100]);
  });

  it('does not rewrite the file when nothing changed', async () => {
    const dir = await tempDir();
    const store = CheckpointStore.forDataDir(dir);
    delivered(store, '1:1', '/x', 1);
    await store.flush();
    await writeFile(join(dir, 'checkpoints.json'), 'sentinel');
    await store.flush();
    expect(await readFile(join(dir, 'checkpoints.json'), 'utf8')).toBe('sentinel');
  });

  it('names the file when it is corrupt', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'checkpoints.json'), '{ torn');
    await expect(CheckpointStore.forDataDir(dir).load()).rejects.toThrow(/checkpoints\.json is not valid JSON/);
  });

  it('starts empty without a file', async () => {
    const store = CheckpointStore.forDataDir(await tempDir());
    await store.load();
    expect(store.get('anything')).toBeUndefined();
  });

  it('expires entries of files not seen for the ttl, unless still being read', async () => {
    const store = CheckpointStore.forDataDir(await tempDir());
    delivered(store, 'gone', '/a.log', 10);
    delivered(store, 'active', '/b.log', 10);
    delivered(store, 'seen', '/c.log', 10);
    const later = Date.now() + 60_000;
    store.markSeen('seen', later);
    expect(store.expire(30_000, (id) => id === 'active', later + 1)).toEqual(['gone']);
    expect(store.get('gone')).toBeUndefined();
    expect(store.size).toBe(2);
  });

  it('a flush queued behind a failing one still runs (and reports its own outcome)', async () => {
    const dir = await tempDir();
    const dataDir = join(dir, 'data');
    await writeFile(dataDir, 'not a directory');
    const store = CheckpointStore.forDataDir(dataDir);
    delivered(store, '1:42', '/var/log/app.log', 1200);
    // Handed in together: the second waits for the first, which fails and leaves the registry dirty.
    const first = store.flush();
    const second = store.flush();
    await expect(first).rejects.toThrow(/cannot write checkpoint file/);
    await expect(second).rejects.toThrow(/cannot write checkpoint file/);
    await rm(dataDir);
    const [third, fourth] = [store.flush(), store.flush()];
    await Promise.all([third, fourth]);
    const reloaded = CheckpointStore.forDataDir(dataDir);
    await reloaded.load();
    expect(reloaded.get('1:42')).toMatchObject({ path: '/var/log/app.log', offset: 1200 });
  });

  it('13.3: a failed write does not poison later flushes: four failures, then the next flush writes', async () => {
    const dir = await tempDir();
    // A regular file where the data directory should be: every write fails (ENOTDIR/EEXIST), also as root.
    const dataDir = join(dir, 'data');
    await writeFile(dataDir, 'not a directory');
    const store = CheckpointStore.forDataDir(dataDir);
    delivered(store, '1:42', '/var/log/app.log', 1200);
    for (let attempt = 0; attempt < 4; attempt++) await expect(store.flush()).rejects.toThrow(/cannot write checkpoint file/);
    await rm(dataDir);
    await store.flush();
    const reloaded = CheckpointStore.forDataDir(dataDir);
    await reloaded.load();
    expect(reloaded.get('1:42')).toMatchObject({ path: '/var/log/app.log', offset: 1200 });
  });

  it('13.19: a symlink planted at the old fixed temp name is not followed, and no temporary is left behind', async () => {
    const dir = await tempDir();
    const victim = join(await tempDir(), 'victim');
    await writeFile(victim, 'precious');
    await symlink(victim, join(dir, 'checkpoints.json.tmp'));
    const store = CheckpointStore.forDataDir(dir);
    delivered(store, '1:1', '/x', 7);
    await store.flush();
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(join(dir, 'checkpoints.json'))).isFile()).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'checkpoints.json'), 'utf8'))).toMatchObject({ files: { '1:1': { offset: 7 } } });
    // The next start removes the planted link (the link, not its target) with any other leftover temporary.
    await CheckpointStore.forDataDir(dir).load();
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });
});
