/**
 * The Processor API: what a processor implements and what its context offers.
 * Processing is sequential within a task; `forward` runs the children before
 * it resolves, so awaiting it keeps state and output in order.
 */
import type { KeyValueStore, WindowStore } from '../state/index.js';
import type { StreamRecord } from './record.js';

export const punctuationTypes = ['stream-time', 'wall-clock'] as const;
export type PunctuationType = (typeof punctuationTypes)[number];

/** Called with the current stream time or wall-clock time, in epoch ms. */
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
  /** Forwards to every child, or only to `childName`. Await it. */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): Promise<void>;
  getKeyValueStore<V>(name: string): KeyValueStore<V>;
  getWindowStore<V>(name: string): WindowStore<V>;
  /**
   * Stream-time punctuators fire when stream time reaches the next multiple of
   * `intervalMs` after the last firing; at most once per advance. Wall-clock
   * punctuators fire on the wall clock.
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
}

export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  init?(context: ProcessorContext<KOut, VOut>): void | Promise<void>;
  process(record: StreamRecord<KIn, VIn>): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** A fresh processor per task: processors hold per-task state. */
export type ProcessorSupplier<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> = () => Processor<
  KIn,
  VIn,
  KOut,
  VOut
>;
