/**
 * One fault scenario end to end: fresh topics and app id, the customers
 * table, the pipeline's instances (exactly-once, meters + customers + plans),
 * the labelled input, and the verdict — after the faults, every instance is
 * stopped and every output topic read read_committed from the beginning and
 * compared with the reference computed from the input alone.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { uniqueName } from '../kafka/kafka-helpers.js';
import { configDocument, uniqueTopics, type MeteringTopics } from '../kafka/metering-fixtures.js';
import { ratingPlan } from '../kafka/rating-truth.js';
import { compareOutputs, describeMismatches, type Mismatch } from './compare-outputs.js';
import { createScenarioTopics, InputFeed, OutputTails, readOutputs, seedCustomers, sharedCluster, type Cluster } from './fault-cluster.js';
import { createWorkload, type SentRecord, type Workload } from './fault-inputs.js';
import type { ReportRow } from './fault-report.js';
import { PipelineFleet } from './pipeline-fleet.js';
import { expectedOutcome, type Expected } from './reference.js';

export interface ScenarioOptions {
  /** Default: the run's shared broker. */
  readonly cluster?: Cluster;
  /** A schema registry's Confluent-compatible URL: Avro input is decoded through it. */
  readonly registryUrl?: string;
  /** Restart instances that exit on their own (see PipelineFleet). */
  readonly supervise?: boolean;
  /** How long the scenario may take from `open` to its verdict; waits are cut to fit. Default 180 s. */
  readonly budgetMs?: number;
}

export interface ScenarioVerdict {
  readonly row: ReportRow;
  readonly mismatches: readonly Mismatch[];
  /** The first mismatches in words, the exits, and where the instances' logs went; empty when all went well. */
  readonly explanation: string;
}

/** Kept back from the budget for the verdict: stopping every instance and reading the outputs anew. */
const verdictReserveMs = 30_000;
/** With a permanent mismatch, how long the outputs must stay unchanged before waiting stops. */
const quietMs = 10_000;
const logRoot = fileURLToPath(new URL('../../.cache/fault-logs/', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FaultScenario {
  /** Every record sent to the input topic, labelled: the reference's only input. */
  readonly sent: SentRecord[] = [];
  /** What was done to the pipeline, for the report (e.g. "SIGKILL a @1200"). */
  readonly faults: string[] = [];

  private constructor(
    readonly name: string,
    readonly cluster: Cluster,
    readonly topics: MeteringTopics,
    readonly workload: Workload,
    readonly fleet: PipelineFleet,
    private readonly feed: InputFeed,
    private readonly tails: OutputTails,
    private readonly deadlineMs: number,
  ) {}

  static async open(name: string, options: ScenarioOptions = {}): Promise<FaultScenario> {
    const deadlineMs = Date.now() + (options.budgetMs ?? 180_000);
    const cluster = options.cluster ?? sharedCluster();
    const topics = uniqueTopics(`faults-${name}`);
    const appId = uniqueName(`faults-${name}`);
    const workload = createWorkload(name);
    await createScenarioTopics(cluster, topics);
    await seedCustomers(cluster, topics.customers, workload.customers);
    const document = (stateDir: string): Record<string, unknown> => ({
      ...configDocument({ appId, stateDir, topics, ...(options.registryUrl === undefined ? {} : { registryUrl: options.registryUrl }) }),
      kafka: { brokers: cluster.brokers },
      customers: workload.customers,
      plans: [ratingPlan],
    });
    const fleet = new PipelineFleet(name, document, { supervise: options.supervise ?? false });
    return new FaultScenario(name, cluster, topics, workload, fleet, await InputFeed.connect(cluster, topics.events), await OutputTails.start(cluster, topics), deadlineMs);
  }

  /** Messages sent so far. */
  get sentCount(): number {
    return this.feed.sent;
  }

  /** Sends records (paced) and files them for the reference. */
  async send(records: readonly SentRecord[], pace = { chunk: 100, intervalMs: 250 }): Promise<void> {
    this.sent.push(...records);
    await this.feed.send(records, pace);
  }

  /** Files records another producer sent (the usage client), for the reference. */
  file(records: readonly SentRecord[]): void {
    this.sent.push(...records);
  }

  /** How many differences the outputs followed so far still show against everything filed: 0 once it is all processed. */
  behind(): number {
    return compareOutputs(this.expected(), this.tails.observed()).length;
  }

  /** Resolves once `count` messages have been sent (the feed runs elsewhere); bounded by the budget. */
  async reached(count: number): Promise<void> {
    while (this.feed.sent < count) {
      if (Date.now() > this.deadlineMs) throw new Error(`${this.name}: only ${this.feed.sent} of ${count} messages sent within the budget`);
      await sleep(50);
    }
  }

  note(fault: string): void {
    this.faults.push(fault);
  }

  expected(): Expected {
    return expectedOutcome(this.sent, this.workload.customers);
  }

  /**
   * Waits until the outputs followed so far equal the reference for
   * everything sent; returns the mismatches left (empty when they agree). It
   * gives up early once a mismatch is permanent and the outputs have been
   * quiet for a while (the rest has arrived), and at the latest when only
   * the verdict's reserve of the budget is left.
   */
  async settle(): Promise<Mismatch[]> {
    const expected = this.expected();
    let seen = -1;
    let quietSinceMs = Date.now();
    for (;;) {
      const observed = this.tails.observed();
      const count = Object.values(observed).reduce((n, records: readonly unknown[]) => n + records.length, 0);
      if (count !== seen) [seen, quietSinceMs] = [count, Date.now()];
      const mismatches = compareOutputs(expected, observed);
      const hopeless = mismatches.some((m) => m.permanent) && Date.now() - quietSinceMs > quietMs;
      if (mismatches.length === 0 || hopeless || Date.now() > this.deadlineMs - verdictReserveMs) return mismatches;
      await sleep(500);
    }
  }

  /**
   * The verdict: waits for the outputs to settle (unless `settled` says it
   * was tried already), stops every instance cleanly (nothing is written
   * after that), reads every output topic anew and compares it with the
   * reference.
   */
  async finish(options: { settled?: boolean } = {}): Promise<ScenarioVerdict> {
    if (options.settled !== true) await this.settle();
    await this.fleet.stopAll();
    const expected = this.expected();
    const mismatches = compareOutputs(expected, await readOutputs(this.cluster, this.topics));
    const failures = this.fleet.failures();
    const exits = this.fleet.unplannedExits.length;
    const restarts = exits > 0 ? [`${exits} instance exit(s) on their own${this.fleet.supervised ? ', restarted' : ''}`] : [];
    const row: ReportRow = { scenario: this.name, ...expected.counts, mismatches: mismatches.length, faults: [...this.faults, ...restarts].join(', ') };
    if (mismatches.length === 0 && exits === 0) return { row, mismatches, explanation: '' };
    // Something went wrong: keep every instance's output (and every mismatch) for the post-mortem.
    const logDir = `${logRoot}${this.name}-${Date.now()}`;
    await this.fleet.writeLogs(logDir);
    await writeFile(`${logDir}/mismatches.txt`, `${mismatches.map((m) => m.text).join('\n')}\n`);
    const outputs = mismatches.length === 0 ? 'outputs exact' : describeMismatches(mismatches);
    const explanation = `${this.name}: ${outputs}\ninstance failures: ${failures.join('\n') || 'none'}\nexits on their own: ${this.fleet.unplannedExits.join('\n') || 'none'}\nlogs: ${logDir}`;
    return { row, mismatches, explanation };
  }

  async close(): Promise<void> {
    await this.fleet.close();
    await this.tails.stop();
    await this.feed.close();
  }
}
