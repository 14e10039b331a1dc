/**
 * A `tally` command whose options are parsed first: a {@link UsageError}
 * prints the message and the command's help on stderr and exits 2; anything
 * else runs the command with the parsed options.
 */
import { UsageError } from './cli-args.js';

export interface CliCommand {
  readonly summary: string;
  readonly help: string;
  run(args: readonly string[]): Promise<number>;
}

export function commandWithUsage<Parsed>(spec: {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  readonly parse: (args: readonly string[]) => Parsed;
  readonly run: (parsed: Parsed) => Promise<number>;
}): CliCommand {
  return {
    summary: spec.summary,
    help: spec.help,
    async run(args) {
      let parsed: Parsed;
      try {
        parsed = spec.parse(args);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        process.stderr.write(`tally ${spec.name}: ${error.message}\n\n${spec.help}\n`);
        return 2;
      }
      return spec.run(parsed);
    },
  };
}
