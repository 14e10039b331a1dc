/**
 * `tally topics`: creates Tally's nine topics on the configured cluster, or
 * only checks them (`--check`), and refuses mismatched ones with every
 * problem listed (service/topics does the work).
 */
import { loadConfig } from '../../schemas/config.js';
import type { TallyConfig } from '../../schemas/config-types.js';
import { TallyError } from '../../schemas/errors.js';
import { ensureTopics, topicSpecs, type TopicCheckReport } from '../../service/topics/index.js';
import { parseOptions, requiredOption, UsageError } from './cli-args.js';
import { commandWithUsage } from './command-with-usage.js';
import { createProgressLine, type ProgressTarget } from './progress-line.js';

export const topicsHelp = `Usage: tally topics --config FILE [--check] [--partitions N] [--replication-factor N]

Creates the nine topics of the config's \`topics\` section on the cluster in
\`kafka\` (when missing) and checks every one of them:

  events, alerts, late,
  deadLetter                      cleanup.policy=delete
  customers, meters, billing,
  invoices, entitlements          cleanup.policy=compact
  all nine                       the same partition count (the customers table is
                                  co-partitioned with the events, keyed by subject)

Existing topics are never changed. If any of them does not fit, nothing is created
and every problem is listed with the topic, what was found, what is needed and how
to fix it.

Options:
  --config FILE              tally.yaml
  --check                    only check: a missing topic is a problem too (exit 1)
  --partitions N             partitions every topic must have (default: the events topic's
                             count if it exists, else the first existing topic's, else 8)
  --replication-factor N     for topics it creates (default: the broker's default)
  --help                     show this help

Progress ("topics: checked 4/6, ...") goes to stderr; one line per topic to stdout.

Exit status: 0 when all nine topics exist and fit; 1 on a bad config, mismatched or
(with --check) missing topics, or an unreachable cluster; 2 on bad options.`;

export interface TopicsArgs {
  readonly configPath: string;
  readonly check: boolean;
  readonly partitions: number | undefined;
  readonly replicationFactor: number | undefined;
}

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`${name} ${JSON.stringify(text)} must be a whole number >= 1`);
  return Number(text);
}

export function parseTopicsArgs(args: readonly string[]): TopicsArgs {
  const { values, switches } = parseOptions(args, { values: ['--config', '--partitions', '--replication-factor'], switches: ['--check'] });
  return {
    configPath: requiredOption(values, '--config', 'the tally.yaml whose topics to create or check'),
    check: switches.has('--check'),
    partitions: positiveInteger('--partitions', values.get('--partitions')),
    replicationFactor: positiveInteger('--replication-factor', values.get('--replication-factor')),
  };
}

/** One line per topic: name, config key, policy, and what happened. */
function reportLines(config: TallyConfig, report: TopicCheckReport): string[] {
  const specs = topicSpecs(config);
  const width = Math.max(...specs.map((s) => s.name.length));
  const created = new Set(report.created);
  return specs.map((spec) => {
    const outcome = created.has(spec.name) ? 'created' : 'ok';
    return `${spec.name.padEnd(width)}  topics.${spec.role.padEnd(10)}  ${report.partitions} partitions  cleanup.policy=${spec.cleanupPolicy.padEnd(7)}  ${outcome}`;
  });
}

/** Kafka client errors (unreachable broker, authentication) in words. */
function kafkaProblem(error: unknown, config: TallyConfig): string | undefined {
  if (!(error instanceof Error) || !error.name.startsWith('KafkaJS')) return undefined;
  return `Kafka at ${config.kafka.brokers.join(',')} failed: ${error.message}; check kafka.brokers (and ssl/sasl) in the config and that the cluster is up`;
}

/** Runs the command; returns the exit status. */
export async function runTopics(args: TopicsArgs, stdout: (line: string) => void, stderr: ProgressTarget): Promise<number> {
  const error = (line: string): unknown => stderr.write(`tally topics: ${line}\n`);
  let config: TallyConfig;
  try {
    config = await loadConfig(args.configPath);
  } catch (e) {
    if (!(e instanceof TallyError)) throw e;
    error(e.message);
    return 1;
  }
  const progress = createProgressLine(stderr);
  let last = '';
  try {
    const report = await ensureTopics(config, {
      create: !args.check,
      ...(args.partitions === undefined ? {} : { partitions: args.partitions }),
      ...(args.replicationFactor === undefined ? {} : { replicationFactor: args.replicationFactor }),
      onProgress: (line) => progress.update((last = line)),
    });
    progress.done(last);
    for (const line of reportLines(config, report)) stdout(line);
    return 0;
  } catch (e) {
    if (last !== '') progress.done(last);
    const message = e instanceof TallyError ? e.message : kafkaProblem(e, config);
    if (message === undefined) throw e;
    error(message);
    return 1;
  }
}

export const topicsCommand = commandWithUsage({
  name: 'topics',
  summary: 'create or check the Kafka topics (partitions, cleanup policies)',
  help: topicsHelp,
  parse: parseTopicsArgs,
  run: (parsed: TopicsArgs) => runTopics(parsed, (line) => process.stdout.write(`${line}\n`), process.stderr),
});
