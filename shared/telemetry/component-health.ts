import { AsyncLocalStorage } from 'node:async_hooks';
import { errorMessage } from '../errors.js';

/** Longest error text kept per failed component: /healthz is a status page, not a log. */
const MAX_ERROR_CHARS = 300;

export interface ComponentFailure {
  readonly component: string;
  readonly error: string;
  readonly since: string;
  /** Restarts attempted since the component last ran without failing. */
  readonly restarts: number;
}

/**
 * The components of one process that failed and are not running again yet. While any is listed the
 * process is not ready; /healthz and /readyz name them, so a failing source is visible without a log search.
 */
export class ComponentHealth {
  private readonly failures = new Map<string, ComponentFailure>();

  fail(component: string, error: unknown, restarts = 0): void {
    const text = errorMessage(error);
    this.failures.set(component, {
      component,
      error: text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text,
      since: this.failures.get(component)?.since ?? new Date().toISOString(),
      restarts,
    });
  }

  recover(component: string): void {
    this.failures.delete(component);
  }

  get healthy(): boolean {
    return this.failures.size === 0;
  }

  get failed(): readonly ComponentFailure[] {
    return [...this.failures.values()];
  }

  /** One line per failed component, for the health endpoints. */
  describe(): string[] {
    return this.failed.map(
      (failure) => `failed: ${failure.component} since ${failure.since} (restarts: ${failure.restarts}): ${failure.error.replaceAll('\n', ' ')}`,
    );
  }
}

/** Whoever answers for the code running now: a supervisor, around the work of the component it restarts. */
export interface FailureOwner {
  readonly component: string;
  fail(error: unknown): void;
}

/**
 * Ownership travels with the async context (timers, promises, I/O callbacks created while a component
 * starts inherit it), so an error that escapes every catch, as an uncaught exception or an unhandled
 * rejection, can still be charged to the component whose code raised it.
 */
const owners = new AsyncLocalStorage<FailureOwner>();

export function runOwnedBy<T>(owner: FailureOwner, work: () => T): T {
  return owners.run(owner, work);
}

export function currentOwner(): FailureOwner | undefined {
  return owners.getStore();
}
