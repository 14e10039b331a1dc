/**
 * The id of a task: one sub-topology running on one partition, as Kafka
 * Streams' `TaskId`. Its string form `<subtopology>_<partition>` (`1_3`) is
 * what `ProcessorContext.taskId` shows, what names a task's state directory
 * and transactional id, and what members tell each other in the group
 * protocol; it is built and parsed here and nowhere else.
 */
import { TallyError } from '../schemas/index.js';

/** `<subtopology>_<partition>`: two whole numbers without leading zeros, so each id has one spelling (and below 2^31, see isIndex). */
const pattern = /^(0|[1-9]\d{0,9})_(0|[1-9]\d{0,9})$/;

export class TaskId {
  /**
   * The canonical string form, computed once. Two ids are equal exactly when
   * their keys are, so maps and sets of tasks key by it.
   */
  readonly key: string;

  constructor(
    readonly subtopology: number,
    readonly partition: number,
  ) {
    if (!isIndex(subtopology) || !isIndex(partition)) {
      throw new TallyError('task-id-invalid', `a task id needs a sub-topology and a partition that are whole numbers >= 0, got (${subtopology}, ${partition})`);
    }
    this.key = `${subtopology}_${partition}`;
  }

  /** Parses `<subtopology>_<partition>`, e.g. `1_3`; throws a TallyError quoting the text otherwise. */
  static parse(text: string): TaskId {
    const match = pattern.exec(text);
    if (match === null || !isIndex(Number(match[1])) || !isIndex(Number(match[2]))) {
      throw new TallyError('task-id-invalid', `${JSON.stringify(text)} is not a task id: expected <subtopology>_<partition>, e.g. 1_3`);
    }
    return new TaskId(Number(match[1]), Number(match[2]));
  }

  /** True when `parse` takes `text`. */
  static isValid(text: string): boolean {
    const match = pattern.exec(text);
    return match !== null && isIndex(Number(match[1])) && isIndex(Number(match[2]));
  }

  /** By sub-topology, then partition, numerically (`1_10` after `1_9`). */
  static compare(a: TaskId, b: TaskId): number {
    return a.subtopology - b.subtopology || a.partition - b.partition;
  }

  equals(other: TaskId): boolean {
    return this.key === other.key;
  }

  toString(): string {
    return this.key;
  }

  toJSON(): string {
    return this.key;
  }
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n <= 0x7fffffff;
}
