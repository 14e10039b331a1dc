/**
 * The life of a task on Kafka, as Kafka Streams' `Task.State`:
 *
 *   created ──► restoring ──► running
 *      │            │            │
 *      └────────────┴─────┬──────┘
 *                         ▼
 *                     suspended ──► closed
 *
 * - created: its stores are open and (exactly-once) its producer holds the
 *   transactional epoch, which fences any zombie of the task;
 * - restoring: its stores are read back from their changelogs; its sources stay paused;
 * - running: it processes its sources (first its tables, while they bootstrap), commits, punctuates;
 * - suspended: it takes no more records; what it did is committed (a clean
 *   close) or thrown away (a dirty one);
 * - closed: its stores and producer are closed. A task is never reopened: a
 *   rebuilt task is a new one, restored from its changelogs.
 *
 * Only the task manager moves a task from one state to the next.
 */
import { TallyError } from '../../schemas/index.js';
import type { TaskId } from '../task-id.js';

export const taskStates = ['created', 'restoring', 'running', 'suspended', 'closed'] as const;
export type TaskState = (typeof taskStates)[number];

/** The states each state may move to; every other move is a bug. */
export const taskTransitions: { readonly [from in TaskState]: readonly TaskState[] } = {
  created: ['restoring', 'suspended'],
  restoring: ['running', 'suspended'],
  running: ['suspended'],
  suspended: ['closed'],
  closed: [],
};

export function isTransitionAllowed(from: TaskState, to: TaskState): boolean {
  return taskTransitions[from].includes(to);
}

/** One task's current state; `moveTo` refuses what `taskTransitions` does not allow. */
export class TaskLifecycle {
  private current: TaskState = 'created';

  constructor(private readonly taskId: TaskId) {}

  get state(): TaskState {
    return this.current;
  }

  /** Moves to `to`; throws a TallyError (`task-transition-invalid`) naming the task, from and to when not allowed. */
  moveTo(to: TaskState): void {
    const from = this.current;
    if (!isTransitionAllowed(from, to)) {
      const allowed = taskTransitions[from];
      throw new TallyError(
        'task-transition-invalid',
        `task ${this.taskId.key} cannot go from ${from} to ${to}: from ${from} it may only go to ${allowed.length === 0 ? 'nowhere (it is closed for good)' : allowed.join(' or ')}`,
      );
    }
    this.current = to;
  }
}
