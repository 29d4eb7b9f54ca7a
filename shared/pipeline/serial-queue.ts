/**
 * Runs tasks one at a time, in the order they were handed in (a mutex with a
 * FIFO line). A task that fails rejects only its own promise: the tasks
 * behind it still run. Used wherever one resource (a file, a spool, an
 * evaluator's state) must never see two operations at once.
 */
export class SerialQueue {
  /** Settles when the last task handed in has; never rejects, so one failure cannot fail the tasks after it. */
  private tail: Promise<void> = Promise.resolve();
  private count = 0;
  private readonly settled = (): void => {
    this.count--;
  };

  /** Tasks handed in and not yet settled, the running one included. */
  get pending(): number {
    return this.count;
  }

  /** Runs `task` after every task handed in before it has settled; resolves or rejects as `task` does. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.count++;
    const result = this.tail.then(task);
    // Registered before the caller can await `result`, so the count is down by the time the caller resumes.
    this.tail = result.then(this.settled, this.settled);
    return result;
  }

  /** Resolves once every task handed in so far has settled (failed ones included). */
  idle(): Promise<void> {
    return this.tail;
  }
}
