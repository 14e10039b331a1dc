/**
 * `tally produce`: sends usage records to the input topic, with the same
 * idempotent producer the producer SDK uses: a JSONL file of record values
 * sent byte for byte (malformed lines too: they exercise the dead-letter
 * path), or one CloudEvent checked with the pipeline's rules first.
 */
import { access, constants } from 'node:fs/promises';
import type { KafkaConfig, Producer, SASLOptions } from 'kafkajs';
import { allReplicasAcks, checkUsageEventBytes, createIdempotentProducer, createKafkaClient, InvalidUsageEventError } from '../../client/index.js';
import { defaultMaxEventBytes } from '../../processors/index.js';
import { loadConfig } from '../../schemas/config.js';
import type { TallyConfig } from '../../schemas/config-types.js';
import { parseCommandArgs } from './cli-args.js';
import { createProgressLine, type ProgressLine } from './progress-line.js';
import { parseProduceArgs, type ProduceArgs } from './produce-args.js';
import { readLines } from './read-lines.js';

export const produceHelp = `Usage: tally produce --config FILE (--input EVENTS.jsonl | --event JSON) [--topic TOPIC]

Sends usage records to the pipeline's input topic (topics.events in the config) on
the Kafka cluster in the config (kafka.brokers, kafka.ssl, kafka.sasl), with an
idempotent producer (acks from all in-sync replicas), in batches.

Options:
  --config FILE     tally.yaml
  --input FILE      one record value per line, sent byte for byte as it is. Lines that are not
                    valid events (bad JSON, missing fields, bad values) are sent too, on purpose:
                    they are test input for the dead-letter topic. A line that is a JSON object
                    with a string "subject" is keyed by it; any other line has no key. Empty
                    lines at the end of the file are ignored; a trailing \\r is dropped
  --event JSON      one CloudEvent as JSON text, e.g.
                    '{"specversion":"1.0","id":"e1","source":"cli","type":"api.request","subject":"acme","data":{}}'
                    It is checked with the pipeline's rules first: an invalid event is not sent
                    (exit 1, with the reason). A valid one is sent keyed by its subject
  --topic TOPIC     send to TOPIC instead of topics.events (it must exist)
  --help            show this help

Progress ("sent 12,000 / 50,000 records") goes to stderr: rewritten in place on a
terminal, plain lines otherwise. A summary line goes to stdout.

Exit status: 0 when every record was acknowledged; 1 on a bad config, input or event,
a missing topic, or when Kafka is unreachable or refuses a send; 2 on bad options.`;

export interface ProduceIo {
  /** Standard output (the summary). */
  write(text: string): void;
  /** One message line on standard error. */
  error(line: string): void;
  readonly progress: ProgressLine;
}

interface ProducedRecord {
  readonly key: string | null;
  readonly value: Buffer;
}

/** Most records, and most value bytes, per send. */
const batchRecords = 500;
const batchBytes = 512 * 1024;
/** kafkajs retries each request this often before the command gives up. */
const kafkaRetry = { retries: 5, initialRetryMs: 300, maxRetryMs: 10_000 };

const formatCount = (n: number): string => n.toLocaleString('en-US');

/** The record key: the value's subject when it is a JSON object with a non-empty string subject. */
function subjectKey(value: Buffer): string | null {
  try {
    const parsed = JSON.parse(value.toString('utf8')) as unknown;
    const subject = typeof parsed === 'object' && parsed !== null ? (parsed as { subject?: unknown }).subject : undefined;
    return typeof subject === 'string' && subject !== '' ? subject : null;
  } catch {
    return null;
  }
}

async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const _line of readLines(path)) lines++;
  return lines;
}

async function* oneRecord(value: Buffer): AsyncGenerator<Buffer> {
  yield value;
}

/** The records to send and how many there are; a string is the reason the input cannot be used. */
async function openInput(args: ProduceArgs, config: TallyConfig): Promise<{ records: AsyncIterable<Buffer>; total: number } | string> {
  if (args.event !== undefined) {
    const value = Buffer.from(args.event, 'utf8');
    try {
      checkUsageEventBytes(value, Date.now(), { maxFutureSkewMs: config.ingest.maxFutureSkewMs, maxEventBytes: defaultMaxEventBytes });
    } catch (error) {
      if (!(error instanceof InvalidUsageEventError)) throw error;
      return `--event is not a valid usage event: ${error.message}; nothing was sent`;
    }
    return { records: oneRecord(value), total: 1 };
  }
  const path = args.inputPath as string;
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    return `cannot read --input ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); pass an existing file`;
  }
  return { records: readLines(path), total: await countLines(path) };
}

/** Connects and checks the topic exists (the broker may auto-create topics, but Tally's are created on purpose). */
async function connect(config: TallyConfig, topic: string): Promise<Producer | string> {
  const kafka = createKafkaClient(
    {
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId ?? 'tally-produce',
      ssl: config.kafka.ssl as KafkaConfig['ssl'],
      sasl: config.kafka.sasl as SASLOptions | undefined,
    },
    kafkaRetry,
  );
  const admin = kafka.admin();
  try {
    await admin.connect();
    if (!(await admin.listTopics()).includes(topic)) {
      return `topic ${JSON.stringify(topic)} does not exist on ${config.kafka.brokers.join(',')}; create Tally's topics first (see \`tally topics --help\`) or pass --topic`;
    }
  } catch (error) {
    return `cannot reach Kafka at ${config.kafka.brokers.join(',')}: ${(error as Error).message}; check kafka.brokers (and kafka.ssl, kafka.sasl) in the config`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const producer = createIdempotentProducer(kafka, kafkaRetry);
  try {
    await producer.connect();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    return `cannot connect a producer to ${config.kafka.brokers.join(',')}: ${(error as Error).message}`;
  }
  return producer;
}

/** Runs the command; returns the exit status. Bad input and Kafka failures are reported on `io.error`. */
export async function runProduce(args: ProduceArgs, io: ProduceIo): Promise<number> {
  const fail = (message: string): number => {
    io.error(`tally produce: ${message}`);
    return 1;
  };
  const config = await loadConfig(args.configPath).catch((error: Error) => error.message);
  if (typeof config === 'string') return fail(config);
  const topic = args.topic ?? config.topics.events;
  const input = await openInput(args, config);
  if (typeof input === 'string') return fail(input);
  const startMs = Date.now();
  const producer = await connect(config, topic);
  if (typeof producer === 'string') return fail(producer);

  const progress = (n: number): string => `sent ${formatCount(n)} / ${formatCount(input.total)} records`;
  let sent = 0;
  let keyed = 0;
  let batch: ProducedRecord[] = [];
  let bytes = 0;
  const send = async (): Promise<void> => {
    if (batch.length === 0) return;
    await producer.send({ topic, messages: batch, acks: allReplicasAcks });
    sent += batch.length;
    batch = [];
    bytes = 0;
    io.progress.update(progress(sent));
  };
  try {
    for await (const value of input.records) {
      const key = subjectKey(value);
      if (key !== null) keyed++;
      batch.push({ key, value });
      bytes += value.length;
      if (batch.length >= batchRecords || bytes >= batchBytes) await send();
    }
    await send();
  } catch (error) {
    io.progress.done(progress(sent));
    return fail(
      `sending stopped after ${sent} of ${input.total} records were acknowledged: ${(error as Error).message}. ` +
        'Records already acknowledged stay on the topic; sending the same input again is safe for events, which the pipeline deduplicates by (source, id).',
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  io.progress.done(progress(sent));
  const seconds = ((Date.now() - startMs) / 1000).toFixed(1);
  io.write(`tally produce: sent ${formatCount(sent)} records to ${topic} (${formatCount(keyed)} keyed by subject, ${formatCount(sent - keyed)} without a key) in ${seconds} s\n`);
  return 0;
}

export const produceCommand = {
  summary: 'send usage events (a JSONL file, or one event) to the input topic',
  help: produceHelp,
  async run(args: readonly string[]): Promise<number> {
    const parsed = parseCommandArgs('produce', produceHelp, parseProduceArgs, args);
    if (parsed === undefined) return 2;
    const io: ProduceIo = {
      write: (text) => void process.stdout.write(text),
      error: (line) => void process.stderr.write(`${line}\n`),
      progress: createProgressLine(process.stderr),
    };
    return runProduce(parsed, io);
  },
};
