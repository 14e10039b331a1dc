/**
 * Runs a test app (test/kafka/apps/*.ts) as a real child process through tsx,
 * collecting its output lines. Every process a test starts is killed by
 * `killAllAppProcesses()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** TALLY_TEST_LOG_DIR=dir writes each app process's output to dir/<name>.log. */
const logDir = process.env['TALLY_TEST_LOG_DIR'];
if (logDir !== undefined) mkdirSync(logDir, { recursive: true });

const running = new Set<AppProcess>();

export class AppProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(readonly name: string, app: string, options: object) {
    const script = fileURLToPath(new URL(`./apps/${app}.ts`, import.meta.url));
    this.child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        if (logDir !== undefined) appendFileSync(join(logDir, `${this.name}.log`), `${new Date().toISOString()} ${line}\n`);
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first line matching `pattern` (also one already printed). */
  async waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ; ) {
      for (; seen < this.lines.length; seen++) if (pattern.test(this.lines[seen] as string)) return this.lines[seen] as string;
      if (Date.now() > deadline) throw new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-20).join('\n')}`);
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}) before printing ${pattern}; last lines:\n${this.lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The task ids it reported last (`tasks a,b,c`). */
  get tasks(): string[] {
    const last = [...this.lines].reverse().find((l) => l.startsWith('tasks '));
    return last === undefined ? [] : last.slice('tasks '.length).split(',').filter(Boolean);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGKILL: no commit, no close, no checkpoint. */
  async crash(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait for a clean exit (SIGKILL after the timeout). */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export async function killAllAppProcesses(): Promise<void> {
  const all = [...running];
  for (const p of all) p.signal('SIGKILL');
  await Promise.all(all.map((p) => p.exited));
}
