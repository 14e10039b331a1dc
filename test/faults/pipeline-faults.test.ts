/**
 * Fault injection for the whole pipeline (metering + rating, exactly-once,
 * real processes on a real broker): each scenario hurts the pipeline while
 * usage flows, then compares the read_committed meters, billing details,
 * invoices, alerts, late events and dead letters with a reference computed from the input
 * alone (reference.ts). Nothing may be lost or counted twice; every bad
 * record must be dead-lettered once with its reason. The table of all
 * scenarios is printed at the end and written to .cache/fault-report.txt.
 * See docs/fault-injection.md.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka } from '../../cli/local-cluster/local-kafka.js';
import { startLocalRegistry, type LocalRegistry } from '../../cli/local-cluster/local-registry.js';
import { connectSchemaRegistry, registerTallySchemas } from '../../processors/ingest/index.js';
import { cloudEventToAvro } from '../../schemas/index.js';
import { killAllAppProcesses } from '../kafka/app-process.js';
import { ClientFeed } from './client-feed.js';
import { clusterAt } from './fault-cluster.js';
import { eventsOf, interleaveCopies, keyedByEventId, lateRecords, mixIn, onTimeRecords, poisonRecords, withRetries, type SentRecord } from './fault-inputs.js';
import { writeReport, type ReportRow } from './fault-report.js';
import { FaultScenario, type ScenarioVerdict } from './fault-scenario.js';

const rows: ReportRow[] = [];
let scenario: FaultScenario | undefined;
let broker: LocalKafka | undefined;
let registry: LocalRegistry | undefined;
let clientFeed: ClientFeed | undefined;

afterEach(async () => {
  await scenario?.close();
  await clientFeed?.close();
  await killAllAppProcesses();
  await broker?.stop();
  await registry?.stop();
  scenario = broker = registry = clientFeed = undefined;
});
afterAll(async () => {
  const table = await writeReport(rows);
  console.log(`\nfault-injection suite\n${table}\n`);
});

/** Each scenario's budget (FaultScenario cuts its waits to fit), and the test's timeout around it: start-up and clean-up. */
const budgetMs = 180_000;
const timeout = budgetMs + 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const randomMs = (fromMs: number, toMs: number) => fromMs + Math.floor(Math.random() * (toMs - fromMs));
/** How long broker-outage keeps the broker down: far past every kafkajs retry budget and session timeout. */
const outageMs = 30_000;

/** Valid usage with 5% producer retries, and the poison stream mixed in. */
function usageWithPoison(s: FaultScenario, options: { count: number; seed: number; idPrefix: string; withRegistry?: boolean }): SentRecord[] {
  const valid = withRetries(onTimeRecords(s.workload, options), 0.05, options.seed + 1);
  const poison = poisonRecords(s.workload, { idPrefix: options.idPrefix, withRegistry: options.withRegistry ?? false, twins: eventsOf(valid).slice(0, 2) });
  return mixIn(valid, poison, options.seed + 2);
}

function split<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** The scenario's verdict: its row goes in the table, and its mismatches must be none. */
async function expectExactOutputs(s: FaultScenario, options: { settled?: boolean } = {}): Promise<ScenarioVerdict> {
  const verdict = await s.finish(options);
  rows.push(verdict.row);
  expect(verdict.mismatches.slice(0, 25).map((m) => m.text), verdict.explanation).toEqual([]);
  return verdict;
}

/** Waits until the outputs show everything sent so far processed; if they never do, the scenario ends with its verdict. */
async function expectSettled(s: FaultScenario): Promise<void> {
  if ((await s.settle()).length === 0) return;
  await expectExactOutputs(s, { settled: true });
  throw new Error(`${s.name}: the outputs matched the reference only once every instance had stopped`);
}

/** The late storm: each late event twice, interleaved (the second copy is a duplicate, not late again). */
function lateStorm(s: FaultScenario, options: { count: number; seed: number; idPrefix: string }): SentRecord[] {
  return interleaveCopies(lateRecords(s.workload, options), 2, 20, options.seed + 1);
}

describe('the pipeline under faults (exactly-once, metering + rating, real processes)', () => {
  it('sigkill: two instances SIGKILLed at random points, again and again, while usage flows', { timeout }, async () => {
    const s = (scenario = await FaultScenario.open('sigkill', { budgetMs }));
    const input = usageWithPoison(s, { count: 3000, seed: 11, idPrefix: 'sk' });
    const killPoints = Array.from({ length: 4 }, () => Math.floor(input.length * (0.05 + Math.random() * 0.8))).sort((x, y) => x - y);
    await s.fleet.start('a');
    await s.fleet.start('b');
    await Promise.all([s.fleet.waitReady('a'), s.fleet.waitReady('b')]);
    const feeding = s.send(input, { chunk: 50, intervalMs: 250 });
    for (const point of killPoints) {
      await s.reached(point);
      const slot = Math.random() < 0.5 ? 'a' : 'b';
      s.note(`SIGKILL ${slot}@${s.sentCount}`);
      await s.fleet.kill(slot);
      await s.fleet.start(slot); // same state dir: invalid after an unclean stop, restored from the changelogs
    }
    await feeding;
    const verdict = await expectExactOutputs(s);
    // Kills land while thresholds are being crossed: each expected alert once, none extra (compared above).
    expect(verdict.row.alerts).toBeGreaterThan(0);
  });

  it('rebalance: instances join (1 → 3) and leave (3 → 1) mid-stream', { timeout }, async () => {
    const s = (scenario = await FaultScenario.open('rebalance', { budgetMs }));
    const input = usageWithPoison(s, { count: 3000, seed: 21, idPrefix: 'rb' });
    const at = (fraction: number) => Math.floor(input.length * fraction);
    await s.fleet.start('a');
    await s.fleet.waitReady('a');
    const feeding = s.send(input, { chunk: 40, intervalMs: 300 });
    await s.reached(at(0.2));
    s.note(`b, c join@${s.sentCount}`);
    await s.fleet.start('b');
    await s.fleet.start('c');
    await Promise.all([s.fleet.waitReady('b'), s.fleet.waitReady('c')]);
    await s.reached(at(0.6));
    s.note(`b leaves@${s.sentCount}`);
    await s.fleet.stop('b');
    await s.reached(at(0.8));
    s.note(`c leaves@${s.sentCount}`);
    await s.fleet.stop('c');
    await feeding;
    await expectExactOutputs(s);
  });

  it('broker-restart: the broker stopped (SIGTERM) and crashed (SIGKILL) under the running pipeline', { timeout: timeout + 30_000 }, async () => {
    broker = await startLocalKafka({ onProgress: () => undefined });
    const s = (scenario = await FaultScenario.open('broker-restart', { cluster: clusterAt(broker.brokers), supervise: true, budgetMs: budgetMs + 30_000 }));
    const parts = split(usageWithPoison(s, { count: 2400, seed: 31, idPrefix: 'br' }), 3);
    await s.fleet.start('a');
    await s.fleet.start('b');
    await Promise.all([s.fleet.waitReady('a'), s.fleet.waitReady('b')]);
    for (const [i, signal] of [[0, 'SIGTERM'], [1, 'SIGKILL']] as const) {
      await s.send(parts[i] ?? [], { chunk: 200, intervalMs: 100 }); // the pipeline is still working through it when the broker goes
      s.note(`broker ${signal}@${s.sentCount}`);
      await broker.stopBroker({ signal });
      await sleep(randomMs(2_000, 5_000));
      await broker.startBroker();
    }
    await s.send(parts[2] ?? []);
    await expectExactOutputs(s);
  });

  it('all-kill: three instances SIGKILLed at the same moment, five times, while usage keyed by event id flows', { timeout }, async () => {
    const s = (scenario = await FaultScenario.open('all-kill', { budgetMs }));
    // Keyed by event id, every ingest task writes to every repartition partition: each of them
    // interleaves the open transactions of all three instances when the kill lands.
    const input = keyedByEventId(usageWithPoison(s, { count: 2400, seed: 61, idPrefix: 'ak' }));
    const slots = ['a', 'b', 'c'];
    for (const slot of slots) await s.fleet.start(slot);
    await Promise.all(slots.map((slot) => s.fleet.waitReady(slot)));
    // About 50 s of input: five kills, each after the instances are back, fit well inside it.
    const feeding = s.send(input, { chunk: 12, intervalMs: 250 });
    for (const fraction of [0.08, 0.22, 0.36, 0.5, 0.64]) {
      await s.reached(Math.floor(input.length * fraction));
      // Each kill lands on running tasks (restored, with transactions open), not on instances still starting.
      await Promise.all(slots.map((slot) => s.fleet.waitReady(slot)));
      await sleep(randomMs(300, 1_500));
      s.note(`SIGKILL a+b+c@${s.sentCount}`);
      await Promise.all(slots.map((slot) => s.fleet.kill(slot)));
      for (const slot of slots) await s.fleet.start(slot); // same state dirs: invalid after an unclean stop, restored from the changelogs
    }
    await feeding;
    await expectExactOutputs(s);
  });

  it('poison-live: the poison stream, three times over, mixed into live usage; no instance stops for it', { timeout }, async () => {
    const s = (scenario = await FaultScenario.open('poison-live', { supervise: true, budgetMs }));
    const valid = withRetries(onTimeRecords(s.workload, { count: 2400, seed: 81, idPrefix: 'pl' }), 0.05, 82);
    const twins = eventsOf(valid);
    // Three rounds of every pill, spread over the stream: each must become a dead letter, and none may stop an instance.
    const pills = [1, 2, 3].flatMap((round) => poisonRecords(s.workload, { idPrefix: `pl${round}`, withRegistry: false, twins: twins.slice(2 * round, 2 * round + 2) }));
    await s.fleet.start('a');
    await s.fleet.start('b');
    await Promise.all([s.fleet.waitReady('a'), s.fleet.waitReady('b')]);
    s.note(`${pills.length} pills among live usage`);
    await s.send(mixIn(valid, pills, 83), { chunk: 40, intervalMs: 250 });
    const verdict = await expectExactOutputs(s);
    // Supervision restarts an instance a pill stopped, so that the counts above could still be checked; but none may stop.
    expect(s.fleet.unplannedExits, verdict.explanation).toEqual([]);
  });

  it('broker-outage: the broker down for 30 s while the usage client keeps recording; the instances ride it out', { timeout: timeout + 60_000 }, async () => {
    broker = await startLocalKafka({ onProgress: () => undefined });
    const s = (scenario = await FaultScenario.open('broker-outage', { cluster: clusterAt(broker.brokers), supervise: true, budgetMs: budgetMs + 60_000 }));
    const backlog = usageWithPoison(s, { count: 1200, seed: 71, idPrefix: 'bo' });
    const throughOutage = eventsOf(withRetries(onTimeRecords(s.workload, { count: 1200, seed: 73, idPrefix: 'bo-client' }), 0.05, 74));
    const after = onTimeRecords(s.workload, { count: 600, seed: 75, idPrefix: 'bo-after' });
    await s.fleet.start('a');
    await s.fleet.start('b');
    await Promise.all([s.fleet.waitReady('a'), s.fleet.waitReady('b')]);
    const clients = (clientFeed = await ClientFeed.open(broker.brokers, s.topics.events, [...new Set(throughOutage.map((e) => e.source))]));
    await s.send(backlog, { chunk: 300, intervalMs: 50 }); // the pipeline is still working through it when the broker goes
    const recording = clients.record(throughOutage, { chunk: 30, intervalMs: 1_000 }); // about 40 s: before, during and after the outage
    await sleep(2_000);
    s.note(`broker SIGKILL, down ${outageMs / 1000} s@${s.sentCount} (${s.behind()} output differences pending)`);
    await broker.stopBroker({ signal: 'SIGKILL' });
    await sleep(outageMs);
    const pendingInOutboxes = clients.pending();
    await broker.startBroker();
    await recording;
    await clients.flushAndClose(60_000);
    s.file(clients.recorded);
    await s.send(after);
    const verdict = await expectExactOutputs(s);
    expect(pendingInOutboxes, 'events waiting in the usage clients when the broker came back').toBeGreaterThan(0);
    // Supervision restarts an instance that gave up, so the totals above could still be checked; but none may give up.
    expect(s.fleet.unplannedExits, verdict.explanation).toEqual([]);
  });

  it('state-wipe: the state dir deleted between runs, after a clean stop and after a crash', { timeout }, async () => {
    const s = (scenario = await FaultScenario.open('state-wipe', { budgetMs }));
    const firstRun = usageWithPoison(s, { count: 1200, seed: 41, idPrefix: 'sw' });
    await s.fleet.start('a');
    await s.fleet.waitReady('a');
    await s.send(firstRun);
    await expectSettled(s);
    s.note('SIGTERM + wipe');
    await s.fleet.stop('a');
    await s.fleet.wipe('a');
    await s.fleet.start('a');
    // More usage, copies of the first run's events (the dedupe store must come back from its changelog),
    // and a late storm (stream time must come back too, or these would be counted).
    const resent = eventsOf(firstRun).slice(0, 300).map((event, i): SentRecord => ({ kind: 'on-time', key: `sw-again-${i}`, value: Buffer.from(JSON.stringify(event)), event }));
    const late = lateStorm(s, { count: 100, seed: 42, idPrefix: 'sw-late' });
    const [secondRun = [], thirdRun = []] = split(mixIn(mixIn(onTimeRecords(s.workload, { count: 1200, seed: 44, idPrefix: 'sw2' }), resent, 45), late, 46), 2);
    await s.send(secondRun);
    s.note(`SIGKILL + wipe@${s.sentCount}`);
    await s.fleet.kill('a');
    await s.fleet.wipe('a');
    await s.fleet.start('a');
    await s.send(thirdRun);
    await expectExactOutputs(s);
  });

  it('storms: every event 3× (JSON and Avro, interleaved), a poison stream, then a late storm', { timeout }, async () => {
    registry = await startLocalRegistry({ onProgress: () => undefined });
    const s = (scenario = await FaultScenario.open('storms', { registryUrl: registry.url, budgetMs }));
    const connection = connectSchemaRegistry(registry.url);
    const registered = await registerTallySchemas(connection, s.topics, { include: ['usageEvent'] });
    const usageEventSchemaId = registered[0]?.id as number;
    const storm = interleaveCopies(onTimeRecords(s.workload, { count: 1500, seed: 51, idPrefix: 'st' }), 3, 60, 52);
    // Every second copy goes as Avro: the same event in another encoding is still the same event.
    const encoded = await Promise.all(
      storm.map(async (r): Promise<SentRecord> => (r.kind !== 'poison' && r.key.endsWith('~1') ? { ...r, value: await connection.client.encode(usageEventSchemaId, cloudEventToAvro(r.event)) } : r)),
    );
    const poison = poisonRecords(s.workload, { idPrefix: 'st', withRegistry: true, twins: eventsOf(storm).slice(0, 2) });
    await s.fleet.start('a');
    await s.fleet.start('b');
    await Promise.all([s.fleet.waitReady('a'), s.fleet.waitReady('b')]);
    await s.send(mixIn(encoded, poison, 53), { chunk: 150, intervalMs: 200 });
    await expectSettled(s); // the late storm only once every on-time event is processed: its lateness is then certain
    s.note('duplicate, poison and late storms');
    await s.send(lateStorm(s, { count: 120, seed: 54, idPrefix: 'st-late' }));
    await expectExactOutputs(s);
  });
});
