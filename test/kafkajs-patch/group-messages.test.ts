/**
 * groupMessagesPerPartition, patched to push into each partition's array
 * instead of copying it for every message (quadratic in the messages per
 * partition): same groups, same order, the partitioner called the same way.
 */
import { describe, expect, it } from 'vitest';
import { original, patched, seededRandom, type Partitioner } from './produce-internals.js';

const partitionMetadata = Array.from({ length: 8 }, (_, partitionId) => ({ partitionId, leader: 1 }));

function recordingPartitioner(choose: (message: { key: string; partition?: number }) => number | string): { calls: unknown[]; partitioner: Partitioner } {
  const calls: unknown[] = [];
  return {
    calls,
    partitioner: (args) => {
      calls.push(args.message);
      return choose(args.message as { key: string; partition?: number });
    },
  };
}

describe('patched groupMessagesPerPartition', () => {
  it('groups as the original: same partitions (same key order), same messages in the same order, one partitioner call per message', () => {
    const random = seededRandom(7);
    const messages = Array.from({ length: 2_000 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, ...(random() < 0.5 ? { partition: Math.floor(random() * 8) } : {}) }));
    const choose = (m: { key: string; partition?: number }) => m.partition ?? Number(m.key.slice(1)) % 5;
    const before = recordingPartitioner(choose);
    const after = recordingPartitioner(choose);
    const expected = original.groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner: before.partitioner });
    const actual = patched.groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner: after.partitioner });
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    for (const partition of Object.keys(expected)) {
      expect(actual[partition]?.length).toBe(expected[partition]?.length);
      expect(actual[partition]?.every((m, i) => m === expected[partition]?.[i])).toBe(true);
    }
    expect(after.calls).toEqual(before.calls);
  });

  it('returns {} without calling the partitioner when the topic has no partitions', () => {
    const { calls, partitioner } = recordingPartitioner(() => 0);
    expect(patched.groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ key: 'k' }], partitioner })).toEqual({});
    expect(calls).toEqual([]);
  });

  it('skips holes in the messages array, as reduce did', () => {
    const messages = [{ key: 'a' }, , { key: 'b' }] as unknown[]; // eslint-disable-line no-sparse-arrays
    const choose = () => 1;
    const expected = original.groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner: choose });
    expect(patched.groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner: choose })).toEqual(expected);
  });

  it('groups 200 000 messages of one partition in linear time (the original copies the array per message: ~2·10^10 copies)', () => {
    const messages = Array.from({ length: 200_000 }, (_, i) => ({ key: `k${i}` }));
    const started = performance.now();
    const grouped = patched.groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner: () => 3 });
    const elapsedMs = performance.now() - started;
    expect(grouped['3']?.length).toBe(200_000);
    expect(grouped['3']?.[199_999]).toBe(messages[199_999]);
    // Linear: a few ms; generous for a loaded machine. The original takes minutes here.
    expect(elapsedMs).toBeLessThan(3_000);
  });
});
