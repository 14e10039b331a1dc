/**
 * LATEST: the value of the event with the greatest event time; ties go to the
 * higher input offset, then to the greater id (code-unit order). The order is
 * total, so the answer does not depend on arrival order, and merge simply
 * keeps the greater of the two.
 */
import { absent, present } from './accumulator-codecs.js';
import type { Aggregation, MeterInput } from './aggregation.js';

export interface LatestEntry {
  /** Canonical decimal string. */
  readonly value: string;
  readonly timeMs: number;
  readonly offset: number;
  readonly id: string;
}

export type LatestAcc = LatestEntry | null;

/** True when `candidate` comes after `current` in (timeMs, offset, id) order. */
function isLater(candidate: LatestEntry, current: LatestEntry): boolean {
  if (candidate.timeMs !== current.timeMs) return candidate.timeMs > current.timeMs;
  if (candidate.offset !== current.offset) return candidate.offset > current.offset;
  return candidate.id > current.id;
}

function later(left: LatestAcc, right: LatestAcc): LatestAcc {
  if (left === null) return right;
  if (right === null) return left;
  return isLater(right, left) ? right : left;
}

function entryOf(input: MeterInput): LatestEntry {
  return { value: input.value as string, timeMs: input.timeMs, offset: input.offset, id: input.id };
}

export const latestAggregation: Aggregation<LatestAcc> = {
  name: 'LATEST',
  initial: () => null,
  add: (acc, input) => later(acc, entryOf(input)),
  merge: later,
  /** "0" for an empty accumulator (no window or row exists without an event). */
  result: (acc) => (acc === null ? '0' : acc.value),
  /** A presence byte, then value, time, offset and id. */
  codec: {
    write: (writer, acc) => {
      if (acc === null) return writer.byte(absent);
      writer.byte(present);
      writer.string(acc.value);
      writer.signed(acc.timeMs);
      writer.signed(acc.offset);
      writer.string(acc.id);
    },
    read: (reader) => {
      if (reader.byte() === absent) return null;
      const value = reader.string();
      const timeMs = reader.signed();
      const offset = reader.signed();
      return { value, timeMs, offset, id: reader.string() };
    },
  },
};
