/**
 * Generic option parsing for `tally` commands: `--name value`,
 * `--name=value` and on/off switches (`--name`). Every problem is a
 * {@link UsageError} (the command prints it with its help, exit status 2).
 */
import { UsageError } from './replay-args.js';

export { UsageError };

export interface OptionSpec<Value extends string, Switch extends string> {
  /** Options that take a value, e.g. ['--config', '--input']. Each may be given once. */
  readonly values: readonly Value[];
  /** Options without a value, e.g. ['--dry-run']. */
  readonly switches?: readonly Switch[];
}

export interface ParsedOptions<Value extends string, Switch extends string> {
  readonly values: ReadonlyMap<Value, string>;
  readonly switches: ReadonlySet<Switch>;
}

export function parseOptions<Value extends string, Switch extends string = never>(
  args: readonly string[],
  spec: OptionSpec<Value, Switch>,
): ParsedOptions<Value, Switch> {
  const switchNames: readonly string[] = spec.switches ?? [];
  const valueNames: readonly string[] = spec.values;
  const values = new Map<Value, string>();
  const switches = new Set<Switch>();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (switchNames.includes(name) && eq < 0) {
      switches.add(name as Switch);
      continue;
    }
    if (!valueNames.includes(name)) {
      const known = [...valueNames, ...switchNames, '--help'].join(', ');
      throw new UsageError(switchNames.includes(name) ? `${name} takes no value` : `unknown option ${JSON.stringify(arg)}; options are ${known}`);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++index];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    if (values.has(name as Value)) throw new UsageError(`${name} is given twice`);
    values.set(name as Value, value);
  }
  return { values, switches };
}

/** The value of a required option; `what` says what it is for (e.g. "the tally.yaml to use"). */
export function requiredOption<Value extends string>(values: ReadonlyMap<Value, string>, name: Value, what: string): string {
  const value = values.get(name);
  if (value === undefined || value === '') throw new UsageError(`${name} is required (${what})`);
  return value;
}

/**
 * A command's arguments, parsed by `parse`; on a {@link UsageError} the
 * problem and the command's help go to stderr and the result is undefined
 * (the command then exits with status 2).
 */
export function parseCommandArgs<Args>(command: string, help: string, parse: (args: readonly string[]) => Args, args: readonly string[]): Args | undefined {
  try {
    return parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tally ${command}: ${error.message}\n\n${help}\n`);
    return undefined;
  }
}
