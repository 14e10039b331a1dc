/**
 * The Processor API: what a processor implements and what its context offers.
 * The per-record path is synchronous, as in Kafka Streams: `process`,
 * `forward` and store reads and writes return plain values, and `forward` has
 * run every child when it returns. I/O happens around it: stores write their
 * bytes when the task commits, sinks hand records to a collector that sends
 * them in bulk, and what a record needs fetched first (an Avro writer schema)
 * is fetched for the whole batch by the source's `prepare` before any of it
 * is processed.
 */
import type { KeyValueStore, WindowStore } from '../state/index.js';
import type { StreamRecord } from './record.js';

export const punctuationTypes = ['stream-time', 'wall-clock'] as const;
export type PunctuationType = (typeof punctuationTypes)[number];

/**
 * Called with the current stream time or wall-clock time, in epoch ms.
 * Stream-time punctuators run on the per-record path and must be
 * synchronous; wall-clock punctuators may return a promise (e.g. to scan a
 * store), which the task awaits before anything else runs.
 */
export type Punctuator = (timestampMs: number) => void | Promise<void>;

export interface Cancellable {
  cancel(): void;
}

export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  readonly applicationId: string;
  /** `<subtopology>_<partition>`, e.g. `1_3`. */
  readonly taskId: string;
  readonly partition: number;
  /** The processor's node name. */
  readonly nodeName: string;
  /** Names of this node's children, in the order they were added. */
  readonly childNames: readonly string[];
  /** Largest record timestamp this task has seen; -1 before the first. Never moves back. */
  readonly streamTimeMs: number;
  /** The task's wall clock (simulated in the test driver). */
  readonly wallClockMs: number;
  /** Forwards to every child, or only to `childName`; the children have run when it returns. */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void;
  getKeyValueStore<V>(name: string): KeyValueStore<V>;
  getWindowStore<V>(name: string): WindowStore<V>;
  /**
   * Stream-time punctuators fire when stream time reaches the next multiple of
   * `intervalMs` after the last firing; at most once per advance. Wall-clock
   * punctuators fire on the wall clock.
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
  /**
   * For a wall-clock punctuator with much to do: true while it may go on.
   * False once its slice of event-loop time is used up (the runtime's slice,
   * a few ms; none unless set in the test driver), or when the task's output
   * is full (what it sent and the broker has not yet acknowledged is past
   * the runtime's bound; never in the test driver). Such a punctuator works
   * in steps while this holds and returns; the first question of a firing is
   * answered for the output alone, so every firing gets a step done. Told to
   * stop by its slice, it is fired again at the runtime's next turn, after
   * the input that waited meanwhile, so a backlog of work for an idle
   * partition never holds up the others; told to stop by a full output, at
   * its next firing, so the records never wait in memory all together
   * (Kafka Streams' producer blocks on a full `buffer.memory` for the same
   * reason).
   */
  mayContinue(): boolean;
}

export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  /** Runs once the task's stores are restored; may be async (e.g. to load an index from a store). */
  init?(context: ProcessorContext<KOut, VOut>): void | Promise<void>;
  /** Synchronous: a returned promise is an error (the record would not be finished when the next one starts). */
  process(record: StreamRecord<KIn, VIn>): void;
  close?(): void | Promise<void>;
}

/** A fresh processor per task: processors hold per-task state. */
export type ProcessorSupplier<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> = () => Processor<
  KIn,
  VIn,
  KOut,
  VOut
>;
