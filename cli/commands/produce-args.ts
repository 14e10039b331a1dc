/** Command-line arguments of `tally produce`. */
import { parseOptions, requiredOption, UsageError } from './cli-args.js';

export interface ProduceArgs {
  readonly configPath: string;
  /** A file of record values, one per line; exactly one of inputPath and event is set. */
  readonly inputPath: string | undefined;
  /** One CloudEvent as JSON text. */
  readonly event: string | undefined;
  /** Overrides the config's topics.events. */
  readonly topic: string | undefined;
}

export function parseProduceArgs(args: readonly string[]): ProduceArgs {
  const { values } = parseOptions(args, { values: ['--config', '--input', '--event', '--topic'] });
  const configPath = requiredOption(values, '--config', 'the tally.yaml with kafka.brokers and topics.events');
  const inputPath = values.get('--input');
  const event = values.get('--event');
  if ((inputPath === undefined) === (event === undefined)) {
    throw new UsageError('give exactly one of --input FILE (a JSONL file of record values) and --event JSON (one CloudEvent)');
  }
  if (inputPath === '') throw new UsageError('--input needs a file name');
  const topic = values.get('--topic');
  if (topic === '') throw new UsageError('--topic needs a topic name');
  return { configPath, inputPath, event, topic };
}
