/**
 * `tally demo` from start to end, as numbered steps:
 *
 * 1. a cluster: the configured one, or a local broker (and registry);
 * 2. the demo config and its topics (`ensureTopics`, created);
 * 3. a viewer on the output topics, printing every record as it arrives;
 * 4. the pipeline (customers seeded, metering and rating running);
 * 5. the sample stream, batch by batch;
 * 6. wait until the outputs hold everything the stream should produce;
 * 7. the summary; with --keep, keep running until Ctrl-C;
 * 8. tear down in reverse (also after a failure or Ctrl-C).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TallyConfig } from '../../schemas/config-types.js';
import { kafkaClient } from '../../service/index.js';
import { ensureTopics } from '../../service/topics/index.js';
import type { AppLogger } from '../../topology/kafka/index.js';
import { deleteDemoFootprint } from './demo-cleanup.js';
import { startDemoCluster, type DemoCluster } from './demo-cluster.js';
import { demoConfig } from './demo-config.js';
import { alertLine, billingLine, deadLetterLine, invoiceLine, lateLine, meterLine } from './demo-format.js';
import { watchOutputs, type DemoOutput, type DemoOutputs } from './demo-outputs.js';
import { startDemoPipeline, type DemoPipeline } from './demo-pipeline.js';
import { createDemoSender } from './demo-sender.js';
import { demoStream, type DemoStream } from './demo-stream.js';
import { demoSummary, expectDemoOutcome, outputsSettled } from './demo-summary.js';
import { keepRunningHints, scenarioLines } from './demo-text.js';

export interface DemoArgs {
  readonly configPath: string | undefined;
  readonly brokers: readonly string[] | undefined;
  readonly avro: boolean;
  readonly keep: boolean;
}

export interface DemoIo {
  /** Output records, the scenario and the summary (stdout). */
  out(line: string): void;
  /** What the demo is doing (stderr). */
  status(line: string): void;
}

/** The demo's topics are small: 3 sub-topologies × 2 partitions = 6 tasks, light on a laptop. */
const demoPartitions = 2;
const pauseBetweenBatchesMs = 1_500;
const settleTimeoutMs = 60_000;
const settlePollMs = 100;

class DemoStopped extends Error {}

function stopIfAsked(signal: AbortSignal): void {
  if (signal.aborted) throw new DemoStopped();
}

/** Waits `ms`, or less if the demo is stopped (then throws DemoStopped). */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  stopIfAsked(signal);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
  stopIfAsked(signal);
}

function printer(io: DemoIo): (output: DemoOutput) => void {
  return (output) => {
    if (output.kind === 'meter') io.out(meterLine(output.value));
    else if (output.kind === 'billing') io.out(billingLine(output.value));
    else if (output.kind === 'invoice') io.out(invoiceLine(output.value));
    else if (output.kind === 'alert') io.out(alertLine(output.value));
    else if (output.kind === 'late') io.out(lateLine(output.value));
    else io.out(deadLetterLine(output.value));
  };
}

async function sendStream(stream: DemoStream, config: TallyConfig, io: DemoIo, signal: AbortSignal): Promise<void> {
  const sender = await createDemoSender(config);
  try {
    for (const batch of stream.batches) {
      io.status(`sending the ${batch.label}: ${batch.records.length} records`);
      for (const record of batch.records) if (record.note !== undefined) io.status(`  + ${record.note}`);
      await sender.send(batch.records);
      await pause(pauseBetweenBatchesMs, signal);
    }
  } finally {
    await sender.close();
  }
}

/** Resolves once the outputs hold everything; false on timeout. Throws if the pipeline fails or the demo is stopped. */
async function settle(outputs: DemoOutputs, stream: DemoStream, config: TallyConfig, failure: () => Error | undefined, signal: AbortSignal): Promise<boolean> {
  const expectation = expectDemoOutcome(stream, config);
  const deadline = Date.now() + settleTimeoutMs;
  while (!outputsSettled(outputs, stream, expectation)) {
    const failed = failure();
    if (failed !== undefined) throw failed;
    if (Date.now() > deadline) return false;
    await pause(settlePollMs, signal);
  }
  return true;
}

function pipelineLogger(io: DemoIo): AppLogger {
  return { info: () => undefined, warn: (m) => io.status(`pipeline warning: ${m}`), error: (m) => io.status(`pipeline error: ${m}`) };
}

/** Runs the demo; returns the exit status (0: every check passed). */
export async function runDemo(args: DemoArgs, io: DemoIo, signal: AbortSignal): Promise<number> {
  const teardown: (() => Promise<unknown>)[] = [];
  const stateDir = await mkdtemp(join(tmpdir(), 'tally-demo-'));
  teardown.push(() => rm(stateDir, { recursive: true, force: true }));
  let failedWith: Error | undefined;
  try {
    // 1. A cluster.
    const cluster: DemoCluster = await startDemoCluster({
      ...(args.brokers === undefined ? {} : { brokers: args.brokers }),
      ...(args.configPath === undefined ? {} : { configPath: args.configPath }),
      avro: args.avro,
      say: io.status,
    });
    teardown.push(() => cluster.stop());
    stopIfAsked(signal);

    // 2. The config and its topics. On someone else's cluster every name is unique to this run.
    const runId = randomUUID().slice(0, 8);
    const appId = cluster.embedded ? 'tally-demo' : `tally-demo-${runId}`;
    const config = demoConfig({ ...cluster, stateDir, appId, topicPrefix: cluster.embedded ? '' : `${appId}-`, httpToken: `demo-${randomUUID()}` });
    const viewerGroup = `${appId}-viewer`;
    const topics = await ensureTopics(config, { create: true, partitions: demoPartitions });
    io.status(`topics: created ${topics.created.length} (${topics.created.join(', ')}), ${topics.verified.length} already there`);
    if (!cluster.embedded) teardown.push(() => deleteDemoFootprint(config, [appId, viewerGroup]).then((problems) => problems.forEach((p) => io.status(`cleanup: ${p}`))));

    // 3. The viewer, from the beginning of the (new) output topics.
    for (const line of scenarioLines(config, cluster)) io.out(line);
    const outputs = await watchOutputs(kafkaClient(config, `${appId}-viewer`), config.topics, viewerGroup, printer(io));
    teardown.push(() => outputs.stop());

    // 4. The pipeline.
    io.status('starting the pipeline (customers seeded, metering and rating on Kafka)');
    const pipeline: DemoPipeline = await startDemoPipeline(config, pipelineLogger(io));
    teardown.push(() => pipeline.close());
    void pipeline.failure.then((e) => (failedWith = e));
    stopIfAsked(signal);

    // 5. The sample stream, stamped around now.
    const stream = demoStream(Date.now(), { avro: config.schemaRegistry !== undefined });
    await sendStream(stream, config, io, signal);

    // 6. Until the outputs hold everything the stream should produce.
    io.status('waiting for the outputs to settle');
    const settled = await settle(outputs, stream, config, () => failedWith, signal);
    if (!settled) io.status(`the outputs did not settle within ${settleTimeoutMs / 1000} s; the summary shows what is missing`);

    // 7. The summary.
    const summary = demoSummary(outputs, stream, expectDemoOutcome(stream, config), config);
    for (const line of summary.lines) io.out(line);
    if (args.keep) {
      for (const line of keepRunningHints(config, pipeline.url, cluster)) io.out(line);
      const failed = await Promise.race([pipeline.failure, new Promise<undefined>((resolve) => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', () => resolve(undefined))))]);
      if (failed !== undefined) throw failed;
    }
    return summary.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof DemoStopped) {
      io.status('stopped');
      return 130;
    }
    const message = error instanceof Error ? error.message : String(error);
    const kafkaHint = error instanceof Error && error.name.startsWith('KafkaJS') ? ' (is Kafka running at the address from --brokers or --config?)' : '';
    io.status(`the demo failed: ${message}${kafkaHint}`);
    return 1;
  } finally {
    // 8. Tear down in reverse: pipeline, viewer, the run's topics (not on a local broker: it goes), cluster, state dir.
    io.status('tearing down');
    for (const step of teardown.reverse()) await step().catch((e: unknown) => io.status(`teardown: ${(e as Error).message}`));
  }
}
