/**
 * `tally demo`: the whole pipeline on a built-in example, start to end —
 * see cli/demo/run-demo.ts for the steps and docs/demo.md for what you see.
 */
import { runDemo, type DemoArgs } from '../demo/run-demo.js';
import { parseOptions, UsageError } from './cli-args.js';
import { commandWithUsage } from './command-with-usage.js';

export const demoHelp = `Usage: tally demo [--config FILE] [--brokers HOST:PORT[,HOST:PORT]] [--no-avro] [--keep]

Runs Tally on a built-in example: three customers in Los Angeles, Budapest and
Tokyo (USD, EUR, JPY), three meters (api_requests, tokens, seats) and a plan per
customer. It creates the topics, starts the pipeline, sends a sample stream over
the last three minutes (ordinary traffic, three duplicates, a malformed record,
a record with a bad value, and an event that arrives after its window closed),
prints meter records, billing details, late events and dead letters as they
arrive, then a summary checked against what was sent, and tears everything down.

With no Kafka configured (neither --brokers nor --config), it starts a local
single-node Kafka broker and, unless --no-avro, a local Apicurio schema registry
(plain java processes on 127.0.0.1; the first run downloads them with Maven, which
takes a minute; later runs take about half a minute).

Options:
  --config FILE     use the Kafka connection (kafka.*) and schemaRegistry of this tally.yaml;
                    the demo keeps its own meters, customers and plans, and its own topics
                    (named tally-demo-<run>-…, deleted at the end)
  --brokers LIST    use this Kafka cluster (overrides kafka.brokers of --config)
  --no-avro         no schema registry: every event is JSON
  --keep            after the summary, keep running (and printing) until Ctrl-C, with the
                    HTTP API's URL and a sample query
  --help            show this help

Output records and the summary go to stdout; what the demo is doing goes to stderr.

Exit status: 0 when the outputs match what was sent; 1 when they do not or the demo
failed; 2 on bad options; 130 when stopped with Ctrl-C before the summary.`;

export function parseDemoArgs(args: readonly string[]): DemoArgs {
  const { values, switches } = parseOptions(args, { values: ['--config', '--brokers'], switches: ['--no-avro', '--keep'] });
  const brokersText = values.get('--brokers');
  const brokers = brokersText?.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers !== undefined) {
    const bad = brokers.find((b) => !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(b));
    if (brokers.length === 0 || bad !== undefined) throw new UsageError(`--brokers ${JSON.stringify(brokersText)}: write host:port[,host:port], e.g. 127.0.0.1:9092`);
  }
  const configPath = values.get('--config');
  if (configPath === '') throw new UsageError('--config needs a file name');
  return { configPath, brokers, avro: !switches.has('--no-avro'), keep: switches.has('--keep') };
}

export const demoCommand = commandWithUsage({
  name: 'demo',
  summary: 'run the pipeline on a sample stream (starts a local Kafka if none is configured)',
  help: demoHelp,
  parse: parseDemoArgs,
  async run(parsed: DemoArgs): Promise<number> {
    // Ctrl-C (or SIGTERM) once: stop and clean up; twice: leave now (child processes are killed on exit).
    const stop = new AbortController();
    const onSignal = (): void => {
      if (stop.signal.aborted) process.exit(130);
      process.stderr.write('\ntally demo: stopping and cleaning up (Ctrl-C again to quit at once)\n');
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      return await runDemo(parsed, { out: (line) => process.stdout.write(`${line}\n`), status: (line) => process.stderr.write(`tally demo: ${line}\n`) }, stop.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
});
