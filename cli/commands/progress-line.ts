/**
 * A progress line for long-running commands: on a terminal it is rewritten
 * in place (at most every `terminalIntervalMs`); otherwise (a log file, CI)
 * it is printed as a plain line at most every `plainIntervalMs`. The last
 * state is always printed by `done()`.
 */
export interface ProgressLine {
  /** The current progress; printed now or dropped if the last print was too recent. */
  update(text: string): void;
  /** Prints `text` (final counts) and ends the line. */
  done(text: string): void;
}

export interface ProgressTarget {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressLineOptions {
  readonly terminalIntervalMs?: number;
  readonly plainIntervalMs?: number;
  readonly clockMs?: () => number;
}

export function createProgressLine(target: ProgressTarget, options: ProgressLineOptions = {}): ProgressLine {
  const terminal = target.isTTY === true;
  const intervalMs = terminal ? (options.terminalIntervalMs ?? 100) : (options.plainIntervalMs ?? 5_000);
  const clockMs = options.clockMs ?? Date.now;
  let lastPrintMs: number | undefined;
  const print = (text: string): void => {
    target.write(terminal ? `\r${text}\u001b[K` : `${text}\n`);
  };
  return {
    update(text) {
      const nowMs = clockMs();
      if (lastPrintMs !== undefined && nowMs - lastPrintMs < intervalMs) return;
      lastPrintMs = nowMs;
      print(text);
    },
    done(text) {
      print(text);
      if (terminal) target.write('\n');
    },
  };
}
