import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

/** A promise settled from outside, so a test decides when a task ends. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued microtask and promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SerialQueue', () => {
  it('runs tasks one at a time in FIFO order, each after the previous settled', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const results = gates.map((gate, index) =>
      queue.run(async () => {
        log.push(`start ${index}`);
        await gate.promise;
        log.push(`end ${index}`);
        return index;
      }),
    );
    await settle();
    expect(log).toEqual(['start 0']);
    // Finishing them out of order does not reorder them.
    gates[2]?.resolve();
    gates[1]?.resolve();
    await settle();
    expect(log).toEqual(['start 0']);
    gates[0]?.resolve();
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('a failing task rejects its own promise only; the next task still runs', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(() => Promise.reject(new Error('disk full')));
    const thrown = queue.run(() => {
      throw new Error('synchronous');
    });
    const next = queue.run(() => 'ran');
    await expect(failed).rejects.toThrow('disk full');
    await expect(thrown).rejects.toThrow('synchronous');
    await expect(next).resolves.toBe('ran');
    await expect(queue.run(() => Promise.resolve(42))).resolves.toBe(42);
  });

  it('does not start a task before the failed one before it has settled', async () => {
    const queue = new SerialQueue();
    const gate = deferred();
    const log: string[] = [];
    const first = queue.run(async () => {
      await gate.promise;
      throw new Error('boom');
    });
    const second = queue.run(() => log.push('second'));
    await settle();
    expect(log).toEqual([]);
    gate.resolve();
    await expect(first).rejects.toThrow('boom');
    await second;
    expect(log).toEqual(['second']);
  });

  it('counts tasks queued or running, and is back to 0 once they settled, failed ones included', async () => {
    const queue = new SerialQueue();
    expect(queue.pending).toBe(0);
    const gate = deferred();
    const first = queue.run(() => gate.promise);
    const second = queue.run(() => Promise.reject(new Error('x')));
    expect(queue.pending).toBe(2);
    gate.resolve();
    await first;
    expect(queue.pending).toBe(1);
    await second.catch(() => undefined);
    expect(queue.pending).toBe(0);
  });

  it('the count is already down when a caller resumes after its task', async () => {
    const queue = new SerialQueue();
    await queue.run(() => undefined);
    expect(queue.pending).toBe(0);
    await queue.run(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(queue.pending).toBe(0);
  });

  it('idle() waits for everything handed in so far and never rejects', async () => {
    const queue = new SerialQueue();
    const gate = deferred();
    const log: string[] = [];
    void queue.run(() => gate.promise.then(() => log.push('a')));
    void queue.run(() => Promise.reject(new Error('b'))).catch(() => undefined);
    const idle = queue.idle().then(() => log.push('idle'));
    await settle();
    expect(log).toEqual([]);
    gate.resolve();
    await idle;
    expect(log).toEqual(['a', 'idle']);
  });

  it('a task queued by a running task runs after it, not inside it', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let inner: Promise<void> | undefined;
    await queue.run(() => {
      inner = queue.run(() => {
        log.push('inner');
      });
      log.push('outer');
    });
    await inner;
    expect(log).toEqual(['outer', 'inner']);
  });

  it('a failing task nobody awaits raises no unhandled rejection (fire-and-forget work like a spool flush)', async () => {
    const queue = new SerialQueue();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      void queue.run(() => Promise.reject(new Error('nobody listens')));
      await queue.idle();
      await settle();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
