/**
 * The pipeline as the broker benchmarks run it: the bench config (metering,
 * or metering + rating), its topics, the customers table seeded, and the app
 * started with an observer that counts what it produces.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMeteringTopology, createMeteringCounters, customerTableRecords, eventsBySubjectTopic, usageByCustomerTopic, type MeteringCounters } from '../processors/index.js';
import { createIngestDecoder } from '../processors/ingest/index.js';
import { parseConfig, type TallyConfig } from '../schemas/index.js';
import { createApp, type KafkaApp, type ProcessingGuarantee } from '../topology/kafka/index.js';
import { createTopics, uncommitted, waitUntilDrained, type BenchBroker } from './bench-kit.js';
import { benchConfig } from './metering-events.js';

export interface PipelineAppOptions {
  readonly broker: BenchBroker;
  readonly appId: string;
  readonly eventsTopic: string;
  /** Partitions of the input (and so of every sub-topology). */
  readonly partitions: number;
  readonly guarantee: ProcessingGuarantee;
  readonly commitIntervalMs: number;
  readonly keyedBySubject: boolean;
  /** Customers and plans for this many subjects (rating on); undefined: metering only. */
  readonly ratedSubjects?: number;
  readonly registryUrl?: string;
  readonly stateDir?: string;
}

export interface PipelineApp {
  readonly app: KafkaApp;
  readonly config: TallyConfig;
  readonly counters: MeteringCounters;
  /** Records made durable per topic (short names), since the start. */
  readonly produced: Map<string, number>;
  /** Commit rounds so far (each over every task with work) and the time they took, ms. */
  readonly commits: { rounds: number; elapsedMs: number };
  /** Topics the app consumes, with whether they are written transactionally (by the app itself). */
  readonly consumedTopics: readonly { readonly topic: string; readonly transactional: boolean }[];
  failure(): string | undefined;
  close(): Promise<void>;
}

/**
 * Creates the pipeline's topics and, with rating, seeds the customers table
 * and runs the app once on the still empty input until it has read every
 * customer, then closes it cleanly: the timed run starts from a checkpoint,
 * with the table loaded, as a deployment that has been up for a while does.
 * (Otherwise usage read before its customer would be dead-lettered as unrated.)
 * Call it before producing the input; `stateDir` must then be given to both.
 */
export async function preparePipeline(options: PipelineAppOptions & { readonly stateDir: string }): Promise<void> {
  if (options.ratedSubjects === undefined) return;
  const warm = await startPipelineApp({ ...options, seedCustomers: true });
  const customers = warm.config.topics.customers;
  await waitUntilDrained(`reading ${customers}`, () => uncommitted(options.broker.admin, options.appId, [customers], false), warm.failure);
  await warm.close();
}

/** Creates the pipeline's external topics, starts the app and waits until it is ready. */
export async function startPipelineApp(options: PipelineAppOptions & { readonly seedCustomers?: boolean }): Promise<PipelineApp> {
  const { broker, appId, partitions } = options;
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'tally-bench-')));
  const document = benchConfig({
    appId,
    stateDir,
    brokers: broker.brokers,
    guarantee: options.guarantee,
    events: options.eventsTopic,
    keyedBySubject: options.keyedBySubject,
    commitIntervalMs: options.commitIntervalMs,
    ...(options.registryUrl === undefined ? {} : { registryUrl: options.registryUrl }),
    ...(options.ratedSubjects === undefined ? {} : { ratedSubjects: options.ratedSubjects }),
  });
  const config = parseConfig(JSON.stringify(document), 'bench tally.yaml');
  // Every topic the pipeline writes must exist: the app does not create them, and kafkajs retries a send to a missing one for ever.
  await createTopics(broker.admin, { [config.topics.meters]: partitions, [config.topics.billing]: partitions, [config.topics.invoices]: partitions, [config.topics.customers]: partitions }, true);
  await createTopics(broker.admin, { [config.topics.late]: 1, [config.topics.deadLetter]: 1 });
  if (options.ratedSubjects !== undefined && options.seedCustomers === true) {
    const producer = broker.kafka.producer();
    await producer.connect();
    const seed = customerTableRecords(config).map(({ key, value }) => ({ key, value: JSON.stringify(value) }));
    for (let i = 0; i < seed.length; i += 1_000) await producer.send({ topic: config.topics.customers, messages: seed.slice(i, i + 1_000), acks: -1 });
    await producer.disconnect();
  }
  const counters = createMeteringCounters();
  const topology = buildMeteringTopology(config, { decoder: createIngestDecoder(config), counters });
  const produced = new Map<string, number>();
  const commits = { rounds: 0, elapsedMs: 0 };
  const observer = {
    recordsProduced: (topic: string, n: number) => produced.set(topic.replace(`${appId}-`, ''), (produced.get(topic.replace(`${appId}-`, '')) ?? 0) + n),
    committed: (_tasks: number, elapsedMs: number) => {
      commits.rounds++;
      commits.elapsedMs += elapsedMs;
    },
  };
  const quiet = { info: () => undefined, warn: (m: string) => console.warn(`warn ${m}`), error: (m: string) => console.error(`error ${m}`) };
  const app = createApp(topology, { applicationId: appId, brokers: broker.brokers, stateDir, processingGuarantee: options.guarantee, commitIntervalMs: options.commitIntervalMs, logger: quiet, observer });
  let failure: string | undefined;
  void app.failure.then((e) => (failure = e.message));
  await app.start();
  while (!app.ready && failure === undefined) await new Promise((r) => setTimeout(r, 20));
  const eos = options.guarantee === 'exactly_once';
  const consumedTopics = [
    { topic: options.eventsTopic, transactional: false },
    ...(options.keyedBySubject ? [] : [{ topic: `${appId}-${eventsBySubjectTopic}`, transactional: eos }]),
    ...(options.ratedSubjects === undefined ? [] : [{ topic: `${appId}-${usageByCustomerTopic}`, transactional: eos }]),
  ];
  return {
    app,
    config,
    counters,
    produced,
    commits,
    consumedTopics,
    failure: () => failure,
    async close() {
      await app.close();
      if (options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
