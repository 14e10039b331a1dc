/**
 * One root error for the whole project. Every error carries a stable `code`
 * (machine-readable, never reworded), whether retrying can help, and — when a
 * record is involved — the record's coordinates. Messages quote the bad value
 * and say what to do.
 */
export interface RecordCoordinates {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly node?: string;
}

export interface TallyErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
  readonly coordinates?: RecordCoordinates;
}

export class TallyError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly coordinates: RecordCoordinates | undefined;

  constructor(code: string, message: string, options: TallyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.coordinates = options.coordinates;
  }
}

/** A topology that cannot run: duplicate names, unknown stores, missing sources. Raised at build time. */
export class TopologyError extends TallyError {}

/** Local state that cannot be used: locked, corrupt, or missing on disk. */
export class StateStoreError extends TallyError {}

/** Invalid configuration; `problems` lists every problem with its path. */
export class ConfigError extends TallyError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('config-invalid', `invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}
