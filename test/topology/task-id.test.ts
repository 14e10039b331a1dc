import { describe, expect, it } from 'vitest';
import { TallyError } from '../../schemas/index.js';
import { TaskId } from '../../topology/index.js';

describe('TaskId', () => {
  it('prints as <subtopology>_<partition> and parses back to an equal id', () => {
    const id = new TaskId(1, 3);
    expect(id.toString()).toBe('1_3');
    expect(`${id}`).toBe('1_3');
    expect(JSON.stringify({ id })).toBe('{"id":"1_3"}');
    const parsed = TaskId.parse('1_3');
    expect([parsed.subtopology, parsed.partition]).toEqual([1, 3]);
    expect(parsed.equals(id)).toBe(true);
    expect(parsed.key).toBe(id.key);
    expect(parsed.equals(new TaskId(3, 1))).toBe(false);
    expect(TaskId.parse('2147483647_0').subtopology).toBe(2147483647);
  });

  it('keys maps and sets by value: a parsed id finds what a built one stored', () => {
    const tasks = new Map([[new TaskId(0, 10).key, 'meter task']]);
    expect(tasks.get(TaskId.parse('0_10').key)).toBe('meter task');
    expect(tasks.get(TaskId.parse('0_1').key)).toBeUndefined();
    expect(new Set(['2_0', '2_0', '0_2'].map((t) => TaskId.parse(t).key)).size).toBe(2);
  });

  it('orders by sub-topology, then partition, numerically', () => {
    const ids = ['1_10', '0_2', '1_9', '10_0', '1_0', '2_1'].map((t) => TaskId.parse(t));
    expect(ids.sort(TaskId.compare).map(String)).toEqual(['0_2', '1_0', '1_9', '1_10', '2_1', '10_0']);
  });

  it.each(['', '1', '1_', '_3', '1_3_0', '01_3', '1_03', '-1_3', '1_-3', '1.5_3', ' 1_3', '1_3 ', 'a_b', '1_2147483648', '1_99999999999'])('rejects %j with a TallyError that quotes it', (text) => {
    expect(TaskId.isValid(text)).toBe(false);
    expect(() => TaskId.parse(text)).toThrow(TallyError);
    expect(() => TaskId.parse(text)).toThrow(
      expect.objectContaining({ code: 'task-id-invalid', message: `${JSON.stringify(text)} is not a task id: expected <subtopology>_<partition>, e.g. 1_3` }),
    );
  });

  it('refuses a sub-topology or partition that is not a whole number >= 0', () => {
    expect(() => new TaskId(-1, 0)).toThrow(/whole numbers >= 0, got \(-1, 0\)/);
    expect(() => new TaskId(0, 1.5)).toThrow(/got \(0, 1.5\)/);
    expect(() => new TaskId(0, Number.NaN)).toThrow(TallyError);
  });
});
