/** Exponential backoff with jitter for the sender's retries. */

export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  readonly initialMs: number;
  /** The delay never grows beyond this, ms. */
  readonly maxMs: number;
  /** Fraction (0..1) of each delay that is random: 0.2 waits between 80% and 100% of it. */
  readonly jitter: number;
}

/**
 * The delay before retry number `attempt` (1 for the first): `initialMs`
 * doubled per attempt, capped at `maxMs`, then shortened by up to `jitter` of
 * itself so that many clients recovering from one outage do not retry in step.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponentialMs = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exponentialMs * (1 - options.jitter * random()));
}
