/**
 * A bounded shutdown: named steps closed one after another against one
 * deadline. A step that has not finished when the deadline comes is left
 * running and reported, and the steps after it are started without being
 * waited for (they release what they can; the process exits anyway), so
 * the whole sequence never takes longer than its budget — a Kafka client
 * retrying for ever or a store waiting on a hung commit cannot hold it.
 */
import type { AppLogger } from '../topology/kafka/index.js';

export interface ShutdownStep {
  /** What closes, for the log: "the HTTP server", "the pipeline", … */
  readonly name: string;
  /** `budgetMs` is the time left before the deadline. */
  close(budgetMs: number): Promise<void>;
}

export interface ShutdownReport {
  /** Every step finished, without an error, before the deadline. */
  readonly clean: boolean;
  /** Steps that did not close, each with why ("did not finish within 30 s", the error's message, "not waited for"). */
  readonly unclosed: readonly string[];
  readonly elapsedMs: number;
}

type Outcome = { kind: 'done' } | { kind: 'error'; error: Error } | { kind: 'timeout' };

/** Closes `steps` in order within `timeoutMs`; never rejects. */
export async function shutDown(steps: readonly ShutdownStep[], timeoutMs: number, logger: AppLogger): Promise<ShutdownReport> {
  const startedMs = Date.now();
  const deadlineMs = startedMs + timeoutMs;
  const unclosed: string[] = [];
  for (const step of steps) {
    const budgetMs = deadlineMs - Date.now();
    if (budgetMs <= 0) {
      // Out of time: start it so it releases what it can, but do not wait.
      step.close(0).catch(() => undefined);
      unclosed.push(`${step.name} (not waited for: the shutdown timeout had passed)`);
      continue;
    }
    const outcome = await within(step.close(budgetMs), budgetMs);
    if (outcome.kind === 'error') unclosed.push(`${step.name} (${outcome.error.message})`);
    if (outcome.kind === 'timeout') unclosed.push(`${step.name} (still closing when the shutdown timeout of ${timeoutMs} ms ran out)`);
  }
  const elapsedMs = Date.now() - startedMs;
  if (unclosed.length > 0) logger.warn(`shutdown: did not close cleanly in ${elapsedMs} ms: ${unclosed.join('; ')}`);
  return { clean: unclosed.length === 0, unclosed, elapsedMs };
}

/** `work`'s outcome, or a timeout after `ms`. */
async function within(work: Promise<void>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
  });
  const settled = work.then(
    (): Outcome => ({ kind: 'done' }),
    (error: unknown): Outcome => ({ kind: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
