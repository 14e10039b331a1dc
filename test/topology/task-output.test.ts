import type { TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { TaskOutput } from '../../topology/kafka/task-output.js';
import { copyChunk, decodeRecordSet, recordSetsOf } from './record-set-decoding.js';

/** Adds record i (key `k<i>`, `bytes` zero bytes of value) to partition 0 of `topic`. */
const add = (output: TaskOutput, topic: string, i: number, bytes = 10) => output.add(topic, 0, Buffer.from(`k${i}`), Buffer.alloc(bytes), 1_700_000_000_000 + i, {});
/** Every record sent, as `topic:key`, decoded from the chunks' record sets. */
const flatten = (chunks: TopicMessages[][]) => chunks.flatMap((c) => recordSetsOf(c).flatMap(({ topic, set }) => decodeRecordSet(set).map((r) => `${topic}:${String(r.key)}`)));
/** Records per topic in a chunk. */
const recordCounts = (chunk: TopicMessages[]) => recordSetsOf(chunk).map(({ set }) => set.count);

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
      // Copied as sent: once the send settles, TaskOutput writes over the chunk's buffers.
      sent.push(copyChunk(chunk));
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
    add(output, 'a', 1);
    add(output, 'b', 2);
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
      add(output, topic, i, i % 7 === 0 ? 400 : 10);
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
      for (const count of recordCounts(chunk)) expect(count).toBeLessThanOrEqual(5);
      // A chunk goes once it reaches the bound: at most one record (~420 bytes encoded) past it.
      const bytes = recordSetsOf(chunk).reduce((sum, { set }) => sum + set.bytes.length, 0);
      expect(bytes).toBeLessThan(1_000 + 420);
    }
  });

  it('leaves nothing of a record it refuses: no empty record set for its partition or topic', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: true, maxChunkBytes: 10_000 });
    add(output, 'a', 1);
    expect(() => output.add('b', 0, Buffer.from('k'), Buffer.from('v'), 0.5, {})).toThrow('integer');
    expect(() => output.add('a', 3, Buffer.from('k'), Buffer.from('v'), 0.5, {})).toThrow('integer');
    add(output, 'a', 2);
    await sender.releaseUntil(output.drain());
    expect(sender.sent).toHaveLength(1);
    expect(recordSetsOf(sender.sent[0] as TopicMessages[]).map(({ topic, partition, set }) => [topic, partition, set.count])).toEqual([['a', 0, 2]]);
    expect(output.recordCount).toBe(2);
  });

  it("uses a chunk's buffers again once its send settled, never while it is in flight", async () => {
    const inFlight: TopicMessages[][] = [];
    const resolves: (() => void)[] = [];
    const output = new TaskOutput((chunk) => new Promise<void>((resolve) => (inFlight.push(chunk), resolves.push(resolve))), {
      sendWhileProcessing: true,
      maxRecordsPerTopic: 2,
      maxChunkBytes: 1_000_000,
    });
    const buffersOf = (chunk: TopicMessages[]) => recordSetsOf(chunk).map(({ set }) => set.bytes.buffer);
    const settle = () => new Promise((r) => setImmediate(r));
    add(output, 'a', 0);
    add(output, 'a', 1); // first chunk, sent
    await settle();
    const first = inFlight[0] as TopicMessages[];
    const firstCopy = copyChunk(first);
    add(output, 'a', 2);
    add(output, 'a', 3); // second chunk, gathered while the first is in flight: its own buffer
    resolves.shift()?.(); // the first is acknowledged: its buffer goes back to the pool
    await settle();
    const second = inFlight[1] as TopicMessages[];
    expect(buffersOf(second)[0]).not.toBe(buffersOf(first)[0]);
    // The first's bytes stayed as sent until then.
    expect(recordSetsOf(first)[0]?.set.bytes.equals(recordSetsOf(firstCopy)[0]?.set.bytes as Buffer)).toBe(true);
    add(output, 'a', 4);
    add(output, 'a', 5); // third chunk: written into the first's buffer
    resolves.shift()?.();
    await settle();
    const third = inFlight[2] as TopicMessages[];
    expect(buffersOf(third)[0]).toBe(buffersOf(first)[0]);
    expect(flatten([third])).toEqual(['a:k4', 'a:k5']);
    resolves.shift()?.();
    await output.drain();
  });

  it('bounds a chunk by its bytes alone by default: thousands of small records of one topic go out as one request', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: true, maxChunkBytes: 512 * 1024 });
    for (let i = 0; i < 3_000; i++) add(output, 'meters', i, 20); // ~3 000 × ~30 bytes encoded ≈ 90 KB
    await new Promise((r) => setImmediate(r));
    expect(sender.sent).toHaveLength(0); // no chunk full yet
    await sender.releaseUntil(output.drain());
    expect(sender.sent).toHaveLength(1);
    expect(flatten(sender.sent)).toHaveLength(3_000);
  });

  it('never has two sends in flight at once, so a slow chunk cannot be overtaken', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: true, maxRecordsPerTopic: 2, maxChunkBytes: 10_000 });
    for (let i = 0; i < 10; i++) add(output, 'a', i);
    await new Promise((r) => setImmediate(r));
    expect(sender.sent).toHaveLength(1); // the others wait for the first
    await sender.releaseUntil(output.drain());
    expect(sender.sent).toHaveLength(5);
    expect(sender.maxRunning()).toBe(1);
  });

  it('holds full chunks until the commit when it must not send while processing, then sends them in order', async () => {
    const sender = recordingSender();
    const output = new TaskOutput(sender.send, { sendWhileProcessing: false, maxRecordsPerTopic: 2, maxChunkBytes: 10_000 });
    for (let i = 0; i < 7; i++) add(output, 'a', i);
    await new Promise((r) => setImmediate(r));
    expect(sender.sent).toHaveLength(0);
    await sender.releaseUntil(output.drain());
    expect(sender.sent.map((chunk) => recordCounts(chunk))).toEqual([[2], [2], [2], [1]]);
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
        sent.push(copyChunk(chunk));
      },
      { sendWhileProcessing: true, maxRecordsPerTopic: 2, maxChunkBytes: 10_000 },
    );
    for (let i = 0; i < 8; i++) add(output, 'a', i);
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
    for (let i = 0; i < 3; i++) add(output, 'a', i);
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
    for (let i = 3; i < 6; i++) add(output, 'a', i); // the task goes on processing
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
    add(output, 'a', 0);
    const committed = output.endWith(async () => {
      throw new Error('transaction fenced');
    });
    for (let i = 1; i < 5; i++) add(output, 'a', i);
    await expect(committed).rejects.toThrow('transaction fenced');
    await expect(output.drain()).rejects.toThrow('transaction fenced');
    expect(sent).toEqual(['a:k0']);
  });
  it('counts the bytes it sent and the broker has not acknowledged, down as chunks are acknowledged, failed or skipped', async () => {
    const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
    const send = () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
    // Each chunk: two records of 19 bytes encoded (length 1, attributes 1, timestamp and offset
    // deltas 1 + 1, key 1 + 2, value 1 + 10, header count 1) = 38 bytes.
    const output = new TaskOutput(send, { sendWhileProcessing: true, maxRecordsPerTopic: 2, maxChunkBytes: 1_000_000 });
    for (let i = 0; i < 7; i++) add(output, 'a', i);
    const settle = () => new Promise((r) => setImmediate(r));
    await settle();
    // Three full chunks sent, one after another; the seventh record is still gathered.
    expect(pending).toHaveLength(1);
    expect(output.unacknowledgedBytes).toBe(3 * 38);
    pending.shift()?.resolve();
    await settle();
    expect(output.unacknowledgedBytes).toBe(2 * 38);
    pending.shift()?.reject(new Error('broker down'));
    await settle();
    // The failure skips the third chunk: nothing is left waiting for an acknowledgement.
    expect(output.unacknowledgedBytes).toBe(0);
    await expect(output.drain()).rejects.toThrow('broker down');
  });
});
