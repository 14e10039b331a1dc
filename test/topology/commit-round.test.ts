import { describe, expect, it } from 'vitest';
import { beginExactlyOnceSideBySide } from '../../topology/kafka/commit.js';
import type { KafkaTask } from '../../topology/kafka/kafka-task.js';

interface FakeTask {
  readonly task: KafkaTask;
  readonly aborted: () => boolean;
}

/**
 * A task as the commit round sees it: it logs its flush, when its commit is
 * put in its output's line and when its transaction commits; `commitFails`
 * makes the commit fail with a Kafka error that is not a fencing one.
 */
function fakeTask(name: string, log: string[], options: { hasWork?: boolean; flushFails?: boolean; commitFails?: boolean } = {}): FakeTask {
  let aborted = false;
  const task = {
    id: { key: name },
    hasWork: options.hasWork ?? true,
    prepareCommit: () => {
      if (options.flushFails) throw new Error(`${name}: flush failed`);
      log.push(`${name} flushed`);
      // A turn of the event loop from now on shows in the log.
      setImmediate(() => log.push(`turn after ${name}`));
      return Promise.resolve();
    },
    offsetsToCommit: () => [],
    output: {
      endWith: async (step: () => Promise<void>) => {
        log.push(`${name} in line`);
        await step();
      },
      settle: () => Promise.resolve(),
    },
    transaction: {
      commit: () => {
        if (options.commitFails) return Promise.reject(Object.assign(new Error(`${name}: broker unavailable`), { type: 'COORDINATOR_NOT_AVAILABLE' }));
        log.push(`${name} committed`);
        return Promise.resolve();
      },
      abort: () => {
        aborted = true;
        return Promise.resolve();
      },
    },
  };
  return { task: task as unknown as KafkaTask, aborted: () => aborted };
}

describe('an exactly-once commit round over several tasks', () => {
  it("puts each task's commit in its output's line before the event loop gets a turn, and gives it one between two tasks' flushes", async () => {
    const log: string[] = [];
    const tasks = ['a', 'b', 'c'].map((name) => fakeTask(name, log).task);
    const round = await beginExactlyOnceSideBySide(tasks, 'group');
    const results = await round.finished;
    expect(results).toEqual(tasks.map(() => ({ status: 'fulfilled', value: true })));
    const at = (entry: string) => log.indexOf(entry);
    for (const name of ['a', 'b', 'c']) expect(at(`${name} in line`)).toBe(at(`${name} flushed`) + 1);
    expect(at('turn after a')).toBeGreaterThan(at('a in line'));
    expect(at('turn after a')).toBeLessThan(at('b flushed'));
    expect(at('turn after b')).toBeLessThan(at('c flushed'));
  });

  it('reports a task without work as not committed, a failed flush and a failed commit as rejected (the failed transaction aborted), and commits the others', async () => {
    const log: string[] = [];
    const idle = fakeTask('idle', log, { hasWork: false });
    const flushFails = fakeTask('flush-fails', log, { flushFails: true });
    const commitFails = fakeTask('commit-fails', log, { commitFails: true });
    const fine = fakeTask('fine', log);
    const round = await beginExactlyOnceSideBySide([idle.task, flushFails.task, commitFails.task, fine.task], 'group');
    const [idleResult, flushResult, commitResult, fineResult] = await round.finished;
    expect(idleResult).toEqual({ status: 'fulfilled', value: false });
    expect(flushResult).toMatchObject({ status: 'rejected', reason: { message: 'flush-fails: flush failed' } });
    expect(commitResult).toMatchObject({ status: 'rejected', reason: { message: 'commit-fails: broker unavailable' } });
    expect(fineResult).toEqual({ status: 'fulfilled', value: true });
    expect(commitFails.aborted()).toBe(true);
    expect(fine.aborted()).toBe(false);
    expect(log).toContain('fine committed');
    expect(log.some((entry) => entry.startsWith('idle'))).toBe(false);
  });
});
