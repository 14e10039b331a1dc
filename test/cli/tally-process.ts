/**
 * The real `tally` entry point (cli/main.ts, through tsx) in a child
 * process, as a user runs it: exit code, stdout and stderr.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Node arguments that run `tally <args>`: `spawn('node', tallyNodeArgs(args), { cwd: repo })`. */
export function tallyNodeArgs(args: readonly string[]): string[] {
  const entry = "import { main } from './cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";
  return ['--import', 'tsx', '--input-type=module', '-e', entry, '--', ...args];
}

export interface TallyRun {
  /** Exit status; null when killed (e.g. by the timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tally <args>` to the end (killed after `timeoutMs`). */
export function runTally(args: readonly string[], timeoutMs = 60_000): Promise<TallyRun> {
  return new Promise((resolve) => {
    execFile('node', tallyNodeArgs(args), { cwd: repo, timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
  });
}
