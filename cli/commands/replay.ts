/**
 * `tally replay`: runs the metering, rating and entitlements topology in process on the
 * test driver, no Kafka, over a file of record values, and prints every
 * output record as one JSON line — or, with `--query`, the query's JSON body
 * after the replay. The config's customers are piped into the customers topic
 * first, in config order. Deterministic for a given config, input and `--now`.
 */
import { access, constants } from 'node:fs/promises';
import { loadConfig } from '../../schemas/config.js';
import type { TallyConfig } from '../../schemas/config-types.js';
import { TallyError } from '../../schemas/errors.js';
import { TopologyTestDriver, type LoggedRecord } from '../../topology/index.js';
import {
  aggregationFor,
  buildMeteringTopology,
  createMeteringCounters,
  createRatingCounters,
  customerTableRecords,
  meterStoreName,
  meterWallClockCloseIntervalMs,
  ratingEnabled,
  ratingWallClockCloseIntervalMs,
  totalDeadLetters,
  type MeteringCounters,
  type MeterWindowValue,
  type RatingCounters,
} from '../../processors/index.js';
import { parseMeterQuery, queryErrorBody, runMeterQuery, type MeterQuery } from '../../processors/query/index.js';
import { readLines } from './read-lines.js';
import { commandWithUsage } from './command-with-usage.js';
import { parseReplayArgs, type ReplayArgs } from './replay-args.js';

export const replayHelp = `Usage: tally replay --config FILE --input EVENTS.jsonl [--now ISO] [--query QUERY] [--commit-every N]

Runs the metering and rating pipeline in process (no Kafka) over EVENTS.jsonl,
where each line is one record value as a producer would send it (a CloudEvent,
or anything malformed). The config's customers are loaded into the customers
table first. Prints one JSON line per output record, in output order:

  {"topic":"meters|billing|invoices|entitlements|alerts|late|dead-letter","key":<string or null>,"value":<JSON>}

Options:
  --config FILE       tally.yaml
  --input FILE        one record value per line; empty lines at the end of the file are ignored,
                      an empty line before more input is a (malformed) record; a trailing \\r is dropped
  --now ISO           the wall clock, e.g. 2024-01-01T12:00:00Z (default: the current time): ingestion
                      time of events without "time", the future-skew bound, and, after the last line,
                      the wall-clock close of every window, and finalization of every billing
                      period, with end + allowedLateness <= now
  --query QUERY       print this meter query's JSON result after the replay instead of the records,
                      e.g. 'meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z&windowSize=HOUR'
                      (an invalid query prints the error and exits 1)
  --commit-every N    commit every N input lines (default 1): meter updates, billing details,
                      invoices and entitlements are coalesced per commit (alerts never are: each
                      threshold is printed once)
  --help              show this help

Exit status: 0 on success, 1 on a bad config, input or query, 2 on bad options.
Progress goes to stderr when it is a terminal.`;

/** Where the replay writes. */
export interface ReplayIo {
  /** Standard output; may return a promise to apply backpressure. */
  write(text: string): void | Promise<void>;
  /** One message line on standard error. */
  error(line: string): void;
  /** A progress line (overwritten in place); absent when stderr is not a terminal. */
  progress?(line: string): void;
}

const outputChunkChars = 1 << 16;
const progressIntervalMs = 1_000;

/** Physical output topic → the short name printed. Other topics (input, internal, changelogs) are not printed. */
function outputTopicNames(config: TallyConfig): Map<string, string> {
  return new Map([
    [config.topics.meters, 'meters'],
    [config.topics.billing, 'billing'],
    [config.topics.invoices, 'invoices'],
    [config.topics.entitlements, 'entitlements'],
    [config.topics.alerts, 'alerts'],
    [config.topics.late, 'late'],
    [config.topics.deadLetter, 'dead-letter'],
  ]);
}

/** One output line. Values on our topics are JSON already: embedded as is, never re-serialized. */
function outputLine(topic: string, record: LoggedRecord): string {
  const key = record.key === null ? 'null' : JSON.stringify(record.key.toString('utf8'));
  const value = record.value === null ? 'null' : record.value.toString('utf8');
  return `{"topic":${JSON.stringify(topic)},"key":${key},"value":${value}}\n`;
}

function progressLine(lines: number, counters: MeteringCounters, rating: RatingCounters): string {
  return `replay: ${lines} lines, ${counters.eventsAccepted} accepted, ${counters.eventsUnmatched} unmatched, ${totalDeadLetters(counters)} dead letters, ` +
    `${counters.duplicates} duplicates, ${counters.lateEvents} late, ${counters.meterUpdates + counters.meterFinals} meter records, ${rating.billingRecords} billing records, ${rating.invoiceRecords} invoice records, ` +
    `${rating.entitlementRecords} entitlement records, ${rating.alertRecords} alerts`;
}

/** Loads the config's customers into the customers table (one record per subject, config order), then commits. */
async function seedCustomers(driver: TopologyTestDriver, config: TallyConfig, nowMs: number): Promise<void> {
  if (!ratingEnabled(config)) return;
  for (const { key, value } of customerTableRecords(config)) {
    await driver.pipeRaw(config.topics.customers, Buffer.from(key, 'utf8'), Buffer.from(JSON.stringify(value), 'utf8'), { timestampMs: nowMs });
  }
  await driver.commit();
}

/** Runs a replay; returns the exit status. Errors are reported on `io.error`, never thrown for bad input. */
export async function runReplay(args: ReplayArgs, io: ReplayIo): Promise<number> {
  let config: TallyConfig;
  try {
    config = await loadConfig(args.configPath);
  } catch (error) {
    io.error(`tally replay: ${(error as Error).message}`);
    return 1;
  }
  let query: MeterQuery | undefined;
  if (args.query !== undefined) {
    try {
      query = parseMeterQuery(new URLSearchParams(args.query), config);
    } catch (error) {
      return await reportQueryError(error, io);
    }
  }
  try {
    await access(args.inputPath, constants.R_OK);
  } catch (error) {
    io.error(`tally replay: cannot read --input ${args.inputPath} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); pass an existing file`);
    return 1;
  }

  const nowMs = args.nowMs ?? Date.now();
  const counters = createMeteringCounters();
  const ratingCounters = createRatingCounters();
  const names = outputTopicNames(config);
  let output: string[] = [];
  let outputChars = 0;
  const onRecord = (record: LoggedRecord): void => {
    if (query !== undefined) return;
    const name = names.get(record.topic);
    if (name === undefined) return;
    const line = outputLine(name, record);
    output.push(line);
    outputChars += line.length;
  };
  const flushOutput = async (): Promise<void> => {
    if (output.length === 0) return;
    const text = output.join('');
    output = [];
    outputChars = 0;
    await io.write(text);
  };

  const topology = buildMeteringTopology(config, { counters, ratingCounters, wallClockMs: () => nowMs });
  // The driver's clock starts one wall-clock close interval before --now and reaches --now after the last line,
  // so the wall-clock punctuators (meters and billing, same interval) fire exactly at --now. Ingest reads --now
  // itself (the wallClockMs option).
  const closeIntervalMs = Math.max(meterWallClockCloseIntervalMs, ratingWallClockCloseIntervalMs);
  const driver = await TopologyTestDriver.create(topology, {
    applicationId: config.app.id,
    initialWallClockMs: nowMs - closeIntervalMs,
    commitEveryRecords: args.commitEveryRecords,
    cacheMaxBytes: config.app.cacheMaxBytes,
    retainRecords: false,
    onRecord,
  });
  try {
    await seedCustomers(driver, config, nowMs);
    let lines = 0;
    let lastProgressMs = Date.now();
    for await (const line of readLines(args.inputPath)) {
      await driver.pipeRaw(config.topics.events, null, line, { timestampMs: nowMs });
      lines++;
      if (outputChars >= outputChunkChars) await flushOutput();
      if (io.progress !== undefined && Date.now() - lastProgressMs >= progressIntervalMs) {
        lastProgressMs = Date.now();
        io.progress(progressLine(lines, counters, ratingCounters));
      }
    }
    // End of input: emit what is still coalesced, then close every window and billing period the wall clock
    // (--now) has passed.
    await driver.commit();
    await driver.advanceWallClockTime(closeIntervalMs);
    await flushOutput();
    io.progress?.(progressLine(lines, counters, ratingCounters));
    if (query !== undefined) return await printQueryResult(query, config, driver, io);
    return 0;
  } finally {
    await driver.close();
  }
}

async function printQueryResult(query: MeterQuery, config: TallyConfig, driver: TopologyTestDriver, io: ReplayIo): Promise<number> {
  const meter = config.meters.find((m) => m.slug === query.meter);
  if (meter === undefined) throw new TallyError('replay-meter-missing', `meter ${query.meter} vanished from the config`);
  try {
    // The replay runs one partition, so one store holds the meter's windows.
    const store = driver.getWindowStore<MeterWindowValue>(meterStoreName(meter.slug), 0);
    const result = await runMeterQuery(query, [store], aggregationFor(meter.aggregation));
    await io.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (error) {
    return await reportQueryError(error, io);
  }
}

/** Prints a query error: its JSON body (as the HTTP API answers) on stdout, a message on stderr. */
async function reportQueryError(error: unknown, io: ReplayIo): Promise<number> {
  if (!(error instanceof TallyError)) throw error;
  io.error(`tally replay: invalid --query: ${error.message}`);
  await io.write(`${JSON.stringify(queryErrorBody(error))}\n`);
  return 1;
}

/** Standard streams for the CLI: stdout with backpressure, progress only on a terminal. */
function processIo(): ReplayIo {
  return {
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
      }),
    error: (line) => process.stderr.write(`${line}\n`),
    ...(process.stderr.isTTY ? { progress: (line: string) => process.stderr.write(`\r${line}\u001b[K`) } : {}),
  };
}

export const replayCommand = commandWithUsage({
  name: 'replay',
  summary: 'replay a file of events through the metering and rating pipeline in process (no Kafka)',
  help: replayHelp,
  parse: parseReplayArgs,
  async run(parsed: ReplayArgs): Promise<number> {
    const io = processIo();
    try {
      return await runReplay(parsed, io);
    } catch (error) {
      if (!(error instanceof TallyError)) throw error;
      io.error(`tally replay: ${error.message}`);
      return 1;
    } finally {
      if (io.progress !== undefined) process.stderr.write('\n');
    }
  },
});
