import { describe, expect, it } from 'vitest';
import { chunkTopicMessages } from '../../topology/kafka/commit.js';

const message = (i: number, bytes = 100) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(bytes) });

describe("splitting a commit's output into send batches", () => {
  it('keeps a small commit in one batch', () => {
    const chunks = chunkTopicMessages([{ topic: 'a', messages: [message(1), message(2)] }], 10_000);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.[0]?.messages).toHaveLength(2);
  });

  it('splits a large commit under the byte limit and keeps every record in order', () => {
    const messages = Array.from({ length: 100 }, (_, i) => message(i, 1_000));
    const chunks = chunkTopicMessages([{ topic: 'a', messages }, { topic: 'b', messages: [message(999)] }], 10_000);
    expect(chunks.length).toBeGreaterThan(5);
    const flat = chunks.flatMap((c) => c.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key?.toString()}`)));
    expect(flat).toEqual([...messages.map((m) => `a:${m.key.toString()}`), 'b:k999']);
    for (const chunk of chunks) {
      const bytes = chunk.reduce((sum, t) => sum + t.messages.reduce((s, m) => s + (m.value?.length ?? 0), 0), 0);
      expect(bytes).toBeLessThanOrEqual(10_000);
    }
  });
});
