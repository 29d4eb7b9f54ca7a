/**
 * Caps the descriptors the file source holds open. Tailers take a slot to read
 * and give it back at end of file when others wait, and after reading their
 * fair share in one go; waiters are served first-come, first-served, so with
 * more files than slots every file still advances (tailing thousands of files
 * without exhausting the process's descriptor limit).
 */
export class OpenFileLimiter {
  private available: number;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {
    this.available = capacity;
  }

  get hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  get inUse(): number {
    return this.capacity - this.available;
  }

  async acquire(): Promise<void> {
    if (this.available > 0 && this.waiters.length === 0) {
      this.available--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter, so a releaser cannot take it back before them.
    if (next) next();
    else this.available++;
  }
}
