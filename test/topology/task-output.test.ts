import type { TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { TaskOutput } from '../../topology/kafka/task-output.js';

const message = (i: number, bytes = 10) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(bytes) });
const flatten = (chunks: TopicMessages[][]) => chunks.flatMap((c) => c.flatMap((t) => t.messages.map((m) => `${t.topic}:${String(m.key)}`)));

/** A sender that records every chunk and resolves each send when told to. */
function recordingSender() {
  const sent: TopicMessages[][] = [];
  const releases: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  const send = (chunk: TopicMessages[]) =>
    new Promise<void>((resolve) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      sent.push(chunk);
      releases.push(() => {
        running--;
        resolve();
      });
    });
  /** Lets every send finish, one after another, until `done` settles. */
  const releaseUntil = async (done: Promise<void>) => {
    let settled = false;
    void done.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      for (const release of releases.splice(0)) release();
      await new Promise((r) => setImmediate(r));
    }
    await done;
  };
  return { sent, send, releaseUntil, maxRunning: () => maxRunning };
}

describe("a task's output on its way to the broker", () => {
  it('keeps a small output until drained, then sends it as one chunk', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: true, maxRecordsPerTopic: 100, maxChunkBytes: 10_000 });
    output.add('a', message(1));
    output.add('b', message(2));
    expect(sender.sent).toHaveLength(0);
    await sender.releaseUntil(output.drain());
    expect(flatten(sender.sent)).toEqual(['a:k1', 'b:k2']);
    expect(output.recordCount).toBe(2);
    expect(output.takeCounts()).toEqual(new Map([['a', 1], ['b', 1]]));
    expect(output.recordCount).toBe(0);
  });

  it('sends full chunks while records keep coming, within the limits, every record in order', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: true, maxRecordsPerTopic: 5, maxChunkBytes: 1_000 });
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      const topic = i % 3 === 0 ? 'b' : 'a';
      output.add(topic, message(i, i % 7 === 0 ? 400 : 10));
      expected.push(`${topic}:k${i}`);
    }
    await new Promise((r) => setImmediate(r));
    expect(sender.sent.length).toBeGreaterThan(0); // sent before any drain
    await sender.releaseUntil(output.drain());
    const byTopic = (topic: string, list: string[]) => list.filter((k) => k.startsWith(`${topic}:`));
    expect(byTopic('a', flatten(sender.sent))).toEqual(byTopic('a', expected));
    expect(byTopic('b', flatten(sender.sent))).toEqual(byTopic('b', expected));
    expect(flatten(sender.sent)).toHaveLength(40);
    for (const chunk of sender.sent) {
      for (const { messages } of chunk) expect(messages.length).toBeLessThanOrEqual(5);
      const bytes = chunk.reduce((sum, t) => sum + t.messages.reduce((s, m) => s + (m.value?.length ?? 0), 0), 0);
      expect(bytes).toBeLessThanOrEqual(1_000);
    }
  });

  it('bounds a chunk by its bytes alone by default: thousands of small records of one topic go out as one request', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: true, maxChunkBytes: 512 * 1024 });
    for (let i = 0; i < 3_000; i++) output.add('meters', message(i, 20)); // ~3 000 × (20 + key + 64 overhead) ≈ 260 KB
    await new Promise((r) => setImmediate(r));
    expect(sender.sent).toHaveLength(0); // no chunk full yet
    await sender.releaseUntil(output.drain());
    expect(sender.sent).toHaveLength(1);
    expect(flatten(sender.sent)).toHaveLength(3_000);
  });

  it('never has two sends in flight at once, so a slow chunk cannot be overtaken', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: true, maxRecordsPerTopic: 2, maxChunkBytes: 10_000 });
    for (let i = 0; i < 10; i++) output.add('a', message(i));
    await new Promise((r) => setImmediate(r));
    expect(sender.sent).toHaveLength(1); // the others wait for the first
    await sender.releaseUntil(output.drain());
    expect(sender.sent).toHaveLength(5);
    expect(sender.maxRunning()).toBe(1);
  });

  it('holds full chunks until the commit when it must not send while processing, then sends them in order', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: false, maxRecordsPerTopic: 2, maxChunkBytes: 10_000 });
    for (let i = 0; i < 7; i++) output.add('a', message(i));
    await new Promise((r) => setImmediate(r));
    expect(sender.sent).toHaveLength(0);
    await sender.releaseUntil(output.drain());
    expect(sender.sent.map((chunk) => chunk[0]?.messages.length)).toEqual([2, 2, 2, 1]);
    expect(flatten(sender.sent)).toEqual(['a:k0', 'a:k1', 'a:k2', 'a:k3', 'a:k4', 'a:k5', 'a:k6']);
    expect(sender.maxRunning()).toBe(1);
  });

  it('reports a failed send at the drain and sends nothing after it', async () => {
    const sent: TopicMessages[][] = [];
    let calls = 0;
    const output = new TaskOutput(
      async (chunk) => {
        calls++;
        if (calls === 2) throw new Error('broker said no');
        sent.push(chunk);
      },
      { sendWhileProcessing: true, maxRecordsPerTopic: 2, maxChunkBytes: 10_000 },
    );
    for (let i = 0; i < 8; i++) output.add('a', message(i));
    await expect(output.drain()).rejects.toThrow('broker said no');
    expect(calls).toBe(2);
    expect(flatten(sent)).toEqual(['a:k0', 'a:k1']);
  });

  it('commits after every record added before the commit, and sends records added meanwhile only after it', async () => {
    const events: string[] = [];
    let finishCommit!: () => void;
    const output = new TaskOutput(
      async (chunk) => void events.push(...flatten([chunk])),
      { sendWhileProcessing: true, maxRecordsPerTopic: 2, maxChunkBytes: 10_000 },
    );
    for (let i = 0; i < 3; i++) output.add('a', message(i));
    const committed = output.endWith(
      () =>
        new Promise<void>((resolve) => {
          events.push('commit begins');
          finishCommit = () => {
            events.push('commit ends');
            resolve();
          };
        }),
    );
    for (let i = 3; i < 6; i++) output.add('a', message(i)); // the task goes on processing
    while (!events.includes('commit begins')) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['a:k0', 'a:k1', 'a:k2', 'commit begins']);
    finishCommit();
    await committed;
    await output.drain();
    expect(events).toEqual(['a:k0', 'a:k1', 'a:k2', 'commit begins', 'commit ends', 'a:k3', 'a:k4', 'a:k5']);
  });

  it('sends nothing more after a failed commit, and reports it', async () => {
    const sent: string[] = [];
    const output = new TaskOutput(async (chunk) => void sent.push(...flatten([chunk])), { sendWhileProcessing: true, maxRecordsPerTopic: 2, maxChunkBytes: 10_000 });
    output.add('a', message(0));
    const committed = output.endWith(async () => {
      throw new Error('transaction fenced');
    });
    for (let i = 1; i < 5; i++) output.add('a', message(i));
    await expect(committed).rejects.toThrow('transaction fenced');
    await expect(output.drain()).rejects.toThrow('transaction fenced');
    expect(sent).toEqual(['a:k0']);
  });
  it('counts the bytes it sent and the broker has not acknowledged, down as chunks are acknowledged, failed or skipped', async () => {
    const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
    const send = () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
    // Each chunk: two records of 10 value + 2 key bytes + 64 overhead = 152 bytes.
    const output = new TaskOutput(send, { sendWhileProcessing: true, maxRecordsPerTopic: 2, maxChunkBytes: 1_000_000 });
    for (let i = 0; i < 7; i++) output.add('a', message(i));
    const settle = () => new Promise((r) => setImmediate(r));
    await settle();
    // Three full chunks sent, one after another; the seventh record is still gathered.
    expect(pending).toHaveLength(1);
    expect(output.unacknowledgedBytes).toBe(3 * 152);
    pending.shift()?.resolve();
    await settle();
    expect(output.unacknowledgedBytes).toBe(2 * 152);
    pending.shift()?.reject(new Error('broker down'));
    await settle();
    // The failure skips the third chunk: nothing is left waiting for an acknowledgement.
    expect(output.unacknowledgedBytes).toBe(0);
    await expect(output.drain()).rejects.toThrow('broker down');
  });
});
