/** Command-line arguments of `tally replay`. */
import { DateTime } from 'luxon';

export interface ReplayArgs {
  readonly configPath: string;
  readonly inputPath: string;
  /** The fixed wall clock, epoch ms; undefined: the current time. */
  readonly nowMs: number | undefined;
  /** The query string (`meter=…&from=…`); undefined: print the output records. */
  readonly query: string | undefined;
  /** Commit (flush caches, emit coalesced meter updates) after this many input lines. */
  readonly commitEveryRecords: number;
}

export class UsageError extends Error {}

const valueFlags = ['--config', '--input', '--now', '--query', '--commit-every'] as const;
type ValueFlag = (typeof valueFlags)[number];

/** An ISO-8601 instant with a zone designator (Z or an offset). */
export function parseNowMs(text: string): number {
  const time = /(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/.test(text) ? DateTime.fromISO(text, { setZone: true }) : undefined;
  if (time === undefined || !time.isValid) {
    throw new UsageError(`--now ${JSON.stringify(text)} is not an ISO-8601 instant with a zone; write e.g. 2024-01-01T12:00:00Z or 2024-01-01T13:00:00+01:00`);
  }
  return time.toMillis();
}

export function parseReplayArgs(args: readonly string[]): ReplayArgs {
  const values = new Map<ValueFlag, string>();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const eq = arg.indexOf('=');
    const flag = (eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg) as ValueFlag;
    if (!valueFlags.includes(flag)) throw new UsageError(`unknown option ${JSON.stringify(arg)}; options are ${valueFlags.join(', ')} and --help`);
    const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : args[++index];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (values.has(flag)) throw new UsageError(`${flag} is given twice`);
    values.set(flag, value);
  }
  const configPath = values.get('--config');
  const inputPath = values.get('--input');
  if (configPath === undefined || configPath === '') throw new UsageError('--config FILE is required (the tally.yaml to replay with)');
  if (inputPath === undefined || inputPath === '') throw new UsageError('--input FILE is required (one record value per line)');
  const now = values.get('--now');
  const commitEvery = values.get('--commit-every') ?? '1';
  if (!/^[1-9]\d*$/.test(commitEvery)) throw new UsageError(`--commit-every ${JSON.stringify(commitEvery)} must be a whole number of lines >= 1`);
  return {
    configPath,
    inputPath,
    nowMs: now === undefined ? undefined : parseNowMs(now),
    query: values.get('--query'),
    commitEveryRecords: Number(commitEvery),
  };
}
