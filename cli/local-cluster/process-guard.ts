/**
 * Never leave a child JVM behind: a process 'exit' hook kills guarded children, and a tiny `sh`
 * watchdog per child covers what the hook cannot (this Node process killed by a signal, even
 * SIGKILL): it blocks reading a pipe from us; when we die the pipe closes and it TERMs, then
 * KILLs, the child and removes its temp dir.
 *
 * The same mechanism local-kafka.ts uses for brokers, as a module the other launchers
 * (local-registry.ts) share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface ChildGuard {
  /** Stops watching (the child has exited or was stopped on purpose). Idempotent. */
  release(): void;
}

interface Guarded {
  readonly child: ChildProcess;
  readonly tempDir: string | undefined;
  readonly exitSignal: NodeJS.Signals;
  watchdog: ChildProcess | undefined;
}

const guarded = new Set<Guarded>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const g of guarded) {
      try {
        g.child.kill(g.exitSignal);
      } catch {
        /* already gone */
      }
      if (g.tempDir !== undefined) rmSync(g.tempDir, { recursive: true, force: true });
    }
  });
}

function startWatchdog(pid: number, name: string, tempDir: string | undefined): ChildProcess | undefined {
  const script = [
    'cat >/dev/null', // returns when our end of the pipe closes, i.e. when this Node process is gone
    'kill -TERM "$1" 2>/dev/null',
    'i=0; while kill -0 "$1" 2>/dev/null && [ "$i" -lt 30 ]; do sleep 0.5; i=$((i+1)); done',
    'if kill -0 "$1" 2>/dev/null; then kill -KILL "$1"; sleep 0.5; fi',
    'if [ -n "$2" ]; then rm -rf "$2"; fi',
  ].join('\n');
  try {
    const wd = spawn('sh', ['-c', script, `${name}-watchdog`, String(pid), tempDir ?? ''], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    wd.on('error', () => undefined);
    wd.unref();
    (wd.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
    return wd;
  } catch {
    return undefined;
  }
}

/**
 * Guards `child` until `release()`: sent `exitSignal` (default SIGKILL) when this process
 * exits, TERMed by a watchdog when this process dies; `tempDir`, if given, is removed in both cases.
 */
export function guardChild(
  child: ChildProcess,
  options: { readonly name: string; readonly tempDir?: string | undefined; readonly exitSignal?: NodeJS.Signals },
): ChildGuard {
  installExitHook();
  const entry: Guarded = { child, tempDir: options.tempDir, exitSignal: options.exitSignal ?? 'SIGKILL', watchdog: undefined };
  guarded.add(entry);
  if (child.pid !== undefined) entry.watchdog = startWatchdog(child.pid, options.name, options.tempDir);
  return {
    release() {
      guarded.delete(entry);
      const wd = entry.watchdog;
      entry.watchdog = undefined;
      if (wd === undefined || wd.exitCode !== null || wd.signalCode !== null) return;
      try {
        wd.kill('SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}
