import { isDependencyUnavailable } from '../errors';
import type { Logger } from '../logger';

/**
 * Runs `work` until it succeeds, waiting (250 ms doubling up to `maxDelayMs`) while it fails only
 * because PostgreSQL or Redis cannot be reached: a process starting while its database restarts
 * waits for it instead of exiting. Any other failure (a wrong password, a broken migration) is
 * thrown at once.
 */
export async function retryWhileUnavailable<T>(
  what: string,
  work: () => Promise<T>,
  logger: Logger,
  maxDelayMs = 5_000,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDependencyUnavailable(error)) throw error;
      const delayMs = Math.min(maxDelayMs, 250 * 2 ** attempt);
      logger.warn({ err: error, attempt, delay_ms: delayMs }, `${what}: dependency unavailable`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
