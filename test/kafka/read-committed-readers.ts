/**
 * Two readers of one topic partition, to compare: Kafka's Java consumer (the
 * reference, test/kafka/java/ReadCommitted.java, compiled against the broker's
 * own kafka-clients jar) and kafkajs read the way Tally's runtime and
 * restoration read (read_committed, eachBatch without auto-resolve, positions
 * moved by END_BATCH_PROCESS for batches kafkajs consumes itself).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { inject } from 'vitest';
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars } from '../../cli/local-cluster/local-kafka.js';
import { brokers, uniqueName } from './kafka-helpers.js';

export interface ReadRecordAt {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
}

export interface PartitionRead {
  readonly records: ReadRecordAt[];
  /** The reader's position when it stopped: the end offset it read to. */
  readonly end: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const javaSource = join(here, 'java', 'ReadCommitted.java');
const classesDir = join(here, '..', '..', '.cache', 'read-committed-java');

let classpath: string | undefined;

/** Compiles ReadCommitted.java once per run; fails loudly without a JDK. */
function javaClasspath(): string {
  if (classpath !== undefined) return classpath;
  const version = inject('kafkaVersion');
  const libs = ensureKafkaJars({ version: version === 'external' ? DEFAULT_KAFKA_VERSION : version });
  const libsClasspath = `${libs}/*`;
  mkdirSync(classesDir, { recursive: true });
  const compiled = spawnSync('javac', ['-nowarn', '-cp', libsClasspath, '-d', classesDir, javaSource], { encoding: 'utf8', timeout: 120_000 });
  if (compiled.error !== undefined) throw new Error(`cannot run javac (a JDK is needed for the Java reference reader): ${compiled.error.message}`);
  if (compiled.status !== 0 || !existsSync(join(classesDir, 'ReadCommitted.class'))) throw new Error(`javac failed on ${javaSource} (exit ${String(compiled.status)}):\n${compiled.stderr}`);
  classpath = `${classesDir}:${libsClasspath}`;
  return classpath;
}

/** Reads a partition to its end with Kafka's Java consumer. */
export async function readWithJava(topic: string, partition: number, isolation: 'read_committed' | 'read_uncommitted', timeoutMs = 30_000): Promise<PartitionRead> {
  const cp = javaClasspath();
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('java', ['-cp', cp, 'ReadCommitted', brokers().join(','), topic, String(partition), isolation, String(timeoutMs)], {
      timeout: timeoutMs + 30_000,
      maxBuffer: 64 * 1024 * 1024,
    }));
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`the Java reader failed on ${topic}-${partition}: ${e.message}\n${(e.stderr ?? '').slice(-2000)}`);
  }
  const records: ReadRecordAt[] = [];
  let end: number | undefined;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"')) continue; // anything its logging prints
    const parsed = JSON.parse(line) as ReadRecordAt | { end: number };
    if ('end' in parsed) end = parsed.end;
    else records.push(parsed);
  }
  if (end === undefined) throw new Error(`the Java reader printed no end position for ${topic}-${partition}:\n${stdout.slice(-2000)}`);
  return { records, end };
}

/**
 * Reads a partition to its last stable offset with kafkajs as Tally does.
 * Fails, with the position reached and the number of fetches, if it does not
 * get there within `timeoutMs`.
 */
export async function readLikeTally(kafka: Kafka, topic: string, partition: number, timeoutMs = 20_000): Promise<PartitionRead & { fetches: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const end = Number((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)?.high ?? 0);
  await admin.disconnect();
  const records: ReadRecordAt[] = [];
  let position = 0;
  let fetches = 0;
  const consumer = kafka.consumer({ groupId: uniqueName('read-committed'), readUncommitted: false, maxWaitTimeInMs: 100 });
  consumer.on(consumer.events.FETCH, () => void fetches++);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafkajs reading ${topic}-${partition} got stuck at ${position} of ${end} after ${fetches} fetches`)), timeoutMs);
      const moved = (next: number) => {
        position = Math.max(position, next);
        if (position < end) return;
        clearTimeout(timer);
        resolve();
      };
      // Batches kafkajs consumes itself (markers, aborted or emptied batches) end here only.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        // (An unpatched kafkajs does not report fetchedOffset: its marker-only batches start at their first offset.)
        const from = Number(payload.fetchedOffset ?? payload.firstOffset);
        if (payload.partition === partition && payload.batchSize === 0 && from <= position) moved(Number(payload.lastOffset) + 1);
      });
      void consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          if (batch.partition !== partition) return;
          for (const m of batch.messages) {
            if (Number(m.offset) < end) records.push({ offset: Number(m.offset), key: m.key?.toString() ?? null, value: m.value?.toString() ?? null });
          }
          resolveOffset(batch.lastOffset());
          moved(Number(batch.lastOffset()) + 1);
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return { records, end: position, fetches };
}
