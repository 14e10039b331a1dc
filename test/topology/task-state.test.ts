import { describe, expect, it } from 'vitest';
import { TallyError } from '../../schemas/index.js';
import { TaskId } from '../../topology/index.js';
import { isTransitionAllowed, TaskLifecycle, taskStates, taskTransitions, type TaskState } from '../../topology/kafka/task-state.js';

/** A lifecycle walked to `state` along allowed moves. */
function lifecycleIn(state: TaskState): TaskLifecycle {
  const paths: Record<TaskState, TaskState[]> = {
    created: [],
    restoring: ['restoring'],
    running: ['restoring', 'running'],
    suspended: ['suspended'],
    closed: ['suspended', 'closed'],
  };
  const lifecycle = new TaskLifecycle(new TaskId(1, 3));
  for (const next of paths[state]) lifecycle.moveTo(next);
  expect(lifecycle.state).toBe(state);
  return lifecycle;
}

const allowed: [TaskState, TaskState][] = [
  ['created', 'restoring'],
  ['created', 'suspended'],
  ['restoring', 'running'],
  ['restoring', 'suspended'],
  ['running', 'suspended'],
  ['suspended', 'closed'],
];

describe('the task lifecycle', () => {
  it('starts created', () => {
    expect(new TaskLifecycle(new TaskId(0, 0)).state).toBe('created');
  });

  it('declares exactly the moves of created -> restoring -> running -> suspended -> closed', () => {
    const declared = taskStates.flatMap((from) => taskTransitions[from].map((to) => [from, to]));
    expect(declared).toEqual(allowed);
  });

  it.each(allowed)('moves from %s to %s', (from, to) => {
    const lifecycle = lifecycleIn(from);
    lifecycle.moveTo(to);
    expect(lifecycle.state).toBe(to);
    expect(isTransitionAllowed(from, to)).toBe(true);
  });

  const refused = taskStates.flatMap((from) => taskStates.filter((to) => !allowed.some(([f, t]) => f === from && t === to)).map((to) => [from, to] as [TaskState, TaskState]));

  it.each(refused)('refuses to move from %s to %s, naming the task and both states', (from, to) => {
    const lifecycle = lifecycleIn(from);
    expect(isTransitionAllowed(from, to)).toBe(false);
    expect(() => lifecycle.moveTo(to)).toThrow(TallyError);
    expect(() => lifecycle.moveTo(to)).toThrow(expect.objectContaining({ code: 'task-transition-invalid', message: expect.stringContaining(`task 1_3 cannot go from ${from} to ${to}`) }));
    expect(lifecycle.state).toBe(from);
  });

  it('says where a task may go instead', () => {
    expect(() => lifecycleIn('running').moveTo('restoring')).toThrow('task 1_3 cannot go from running to restoring: from running it may only go to suspended');
    expect(() => lifecycleIn('closed').moveTo('created')).toThrow('from closed it may only go to nowhere (it is closed for good)');
  });
});
