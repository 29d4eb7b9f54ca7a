import type { Lifecycle } from '../pipeline/types.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * Runs a started process until SIGTERM/SIGINT, then drains it within
 * `shutdownTimeoutMs`. A second signal, or the timeout, exits at once: what
 * was not acknowledged is not checkpointed or committed, so it is re-read.
 */
export async function runUntilSignalled(process_: Lifecycle, logger: Logger, shutdownTimeoutMs: number): Promise<number> {
  await process_.start();
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        logger.warn({ signal }, 'second signal: exiting without finishing the drain');
        resolve(130);
        return;
      }
      signalled = true;
      logger.info({ signal, timeout_ms: shutdownTimeoutMs }, 'draining');
      const timer = setTimeout(() => {
        logger.error({ timeout_ms: shutdownTimeoutMs }, 'drain did not finish in time; exiting');
        resolve(1);
      }, shutdownTimeoutMs + 5_000);
      timer.unref();
      process_.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'drain failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
