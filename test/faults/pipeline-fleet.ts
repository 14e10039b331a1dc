/**
 * The pipeline's instances in one scenario: metering+rating app processes
 * (test/kafka/apps/metering-app.ts, the same topology `tally run` builds) in
 * named slots, each slot keeping its own state dir across restarts. Faults
 * are SIGKILL, SIGTERM and wiping a slot's state dir. With `supervise`, an
 * instance that exits on its own (the broker went away under it) is started
 * again in its slot, as an orchestrator would, and counted.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppProcess } from '../kafka/app-process.js';
import { tempStateDir } from '../kafka/kafka-helpers.js';

interface Slot {
  readonly stateDir: string;
  instance: AppProcess | undefined;
}

const readyTimeoutMs = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The line that says why a process ended on its own: its `failed` line, else the last error an uncaught exception printed. */
function whyItExited(lines: readonly string[]): string {
  const reasons = lines.filter((l) => /^failed |^\s*Caused by: |^\w*Error: /.test(l));
  return (reasons.find((l) => l.startsWith('failed ')) ?? reasons.at(-1) ?? lines.at(-1) ?? 'no output').trim();
}

export class PipelineFleet {
  /** Instances that exited without being told to (restarted when supervising): name, exit code and why. */
  readonly unplannedExits: string[] = [];
  private readonly slots = new Map<string, Slot>();
  private readonly everyProcess: AppProcess[] = [];
  private closed = false;

  constructor(
    private readonly name: string,
    private readonly document: (stateDir: string) => Record<string, unknown>,
    private readonly options: { readonly supervise?: boolean } = {},
  ) {}

  get supervised(): boolean {
    return this.options.supervise === true;
  }

  /** Starts an instance in `slot` (its state dir, or a new one); does not wait for it to be ready. */
  async start(slot: string): Promise<void> {
    const entry = this.slots.get(slot) ?? { stateDir: await tempStateDir(), instance: undefined };
    if (entry.instance !== undefined) throw new Error(`test: slot ${slot} already runs ${entry.instance.name}`);
    this.slots.set(slot, entry);
    const instance = new AppProcess(`${this.name}-${slot}-${this.everyProcess.length + 1}`, 'metering-app', { document: this.document(entry.stateDir), sessionTimeoutMs: 6_000 });
    entry.instance = instance;
    this.everyProcess.push(instance);
    void instance.exited.then(async () => {
      if (entry.instance !== instance || this.closed) return; // stopped or killed on purpose
      entry.instance = undefined;
      this.unplannedExits.push(`${instance.name} exited (${await instance.exited}): ${whyItExited(instance.lines)}`);
      if (!this.supervised) return;
      await sleep(1_000);
      if (!this.closed && entry.instance === undefined) await this.start(slot);
    });
  }

  /** Waits until the slot's instance (or, supervised, its replacement) prints `ready`. */
  async waitReady(slot: string): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const instance = this.slots.get(slot)?.instance;
      try {
        if (instance === undefined) throw new Error(`slot ${slot} has no running instance`);
        await instance.waitForLine(/^ready$/, Math.max(1, deadline - Date.now()));
        return;
      } catch (error) {
        if (!this.supervised || Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  }

  running(): string[] {
    return [...this.slots].filter(([, s]) => s.instance !== undefined).map(([name]) => name);
  }

  /** SIGKILL: no commit, no close, no checkpoint. */
  async kill(slot: string): Promise<void> {
    await this.take(slot).crash();
  }

  /** SIGTERM: commit, close, leave the group. */
  async stop(slot: string): Promise<void> {
    await this.take(slot).stop();
  }

  /** Deletes the (stopped) slot's state dir: the next instance restores from the changelogs alone. */
  async wipe(slot: string): Promise<void> {
    const entry = this.slots.get(slot);
    if (entry === undefined || entry.instance !== undefined) throw new Error(`test: slot ${slot} must be stopped before its state dir is wiped`);
    await rm(entry.stateDir, { recursive: true, force: true });
  }

  /** Stops every instance cleanly (all at once), so nothing more is written. */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all(this.running().map((slot) => this.stop(slot)));
  }

  /** Lines some instance printed when it failed (`failed <message>`). */
  failures(): string[] {
    return this.everyProcess.flatMap((p) => p.lines.filter((l) => l.startsWith('failed')).map((l) => `${p.name}: ${l}`));
  }

  /** Writes every instance's output to `dir/<instance>.log`, for a failing scenario's post-mortem. */
  async writeLogs(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (const p of this.everyProcess) await writeFile(join(dir, `${p.name}.log`), `${p.lines.join('\n')}\n`);
  }

  /** Kills what still runs and removes the state dirs. */
  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.running()) await this.take(slot).crash();
    for (const entry of this.slots.values()) await rm(entry.stateDir, { recursive: true, force: true });
  }

  private take(slot: string): AppProcess {
    const entry = this.slots.get(slot);
    const instance = entry?.instance;
    if (entry === undefined || instance === undefined) throw new Error(`test: slot ${slot} has no running instance`);
    entry.instance = undefined;
    return instance;
  }
}
