import type { ComponentHealth } from '../telemetry/component-health.js';
import { currentOwner } from '../telemetry/component-health.js';
import type { Logger } from '../telemetry/logger.js';
import type { PipelineMetrics } from '../telemetry/metrics.js';

/** What an error no supervisor owns is charged to. */
export const UNOWNED_COMPONENT = 'process';

export interface GuardedProcess {
  readonly health: ComponentHealth;
  readonly metrics: PipelineMetrics;
}

/**
 * Process-level `uncaughtException` / `unhandledRejection` handlers for the long-running processes.
 *
 * Node's default is to exit, which for an agent means one bad scrape target also stops the host's file
 * tailing, and under systemd a crash loop. Instead:
 * - an error raised by a supervised component (found through the async context it started in) is handed
 *   to its supervisor, which counts it, marks the component failed and restarts it with backoff;
 * - any other error is logged with its stack, counted (`reason="uncaught"` on component `process`) and
 *   marks the component `process` failed for good: the process keeps doing whatever still works (files
 *   are tailed, checkpoints written), `/readyz` fails and `/healthz` names the error, so an operator or an
 *   orchestrator decides when to restart it. That component is not cleared, because after an error nobody
 *   owns, nothing can prove the process is whole again.
 * Returns a function that removes the handlers.
 */
export function installProcessGuards(guarded: GuardedProcess, logger: Logger): () => void {
  const processMetrics = guarded.metrics.component({ component_id: UNOWNED_COMPONENT, component_type: 'process', component_kind: 'process' });
  const handle = (kind: 'uncaught_exception' | 'unhandled_rejection') => (error: unknown) => {
    const owner = currentOwner();
    if (owner !== undefined) {
      logger.error({ err: error, kind, component: owner.component }, 'component failed outside its own error handling; its supervisor restarts it');
      owner.fail(error);
      return;
    }
    processMetrics.error('uncaught');
    guarded.health.fail(UNOWNED_COMPONENT, error);
    logger.error({ err: error, kind }, 'error outside any component: the process keeps running but reports not ready until restarted');
  };
  const onException = handle('uncaught_exception');
  const onRejection = handle('unhandled_rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
