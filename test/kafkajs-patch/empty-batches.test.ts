/**
 * Record batches that compaction emptied. The log cleaner removes an aborted
 * transaction's records but keeps its producer's last batch as a bare header
 * (its offsets intact); when that header ends a cleaned segment, a fetch
 * returns nothing else. A consumer must move past it, to the batch's last
 * offset + 1, or it fetches the same offset for ever.
 */
import { describe, expect, it } from 'vitest';
import { data, emptied, endBatchProcessEvent, fetchedBatch, lastOffsetOf, marker, Runner, silentLogger, type BatchSpec, type InternalBatch, type InternalMessage } from './kafkajs-internals.js';

const p1 = 2001;
const p2 = 2002;
const plain = (offset: number, value: string): BatchSpec => ({ ...data(offset, -1, value), transactional: false });

/**
 * A partition after the cleaner ran: P2's aborted batch (2..3) is a bare header
 * at the end of the cleaned segment; its abort marker opens the active segment.
 */
const compactedLog: readonly (readonly BatchSpec[])[] = [
  [data(0, p1, 'a'), marker(1, p1, 'commit'), emptied(2, 3, p2)],
  [marker(4, p2, 'abort'), plain(5, 'c')],
];
const highWatermark = 6;

/** What a broker returns for a fetch at `offset`: the rest of the one segment holding it. */
function fetchFrom(log: readonly (readonly BatchSpec[])[], offset: number): BatchSpec[] {
  for (const segment of log) {
    const rest = segment.filter((b) => lastOffsetOf(b) >= offset);
    if (rest.length > 0) return rest;
  }
  return [];
}

interface Reading {
  values: string[];
  /** Next offset the consumer fetches. */
  next: number;
  fetches: number;
  /** A position kept from END_BATCH_PROCESS, as Tally does for batches it never sees. */
  position: number;
}

type Style = 'eachBatch, resolving the batch end' | 'eachBatch, resolving the last message' | 'eachBatch with auto-resolve' | 'eachMessage';

/** Drives kafkajs's consumer runner over `log` with a fake group, fetch after fetch (at most 20). */
async function readWithRunner(log: readonly (readonly BatchSpec[])[], style: Style): Promise<Reading> {
  const reading: Reading = { values: [], next: 0, fetches: 0, position: 0 };
  const consumerGroup = {
    resolveOffset: ({ offset }: { offset: string }) => void (reading.next = Math.max(reading.next, Number(offset) + 1)),
    heartbeat: async () => undefined,
    commitOffsets: async () => undefined,
    commitOffsetsIfNecessary: async () => undefined,
    uncommittedOffsets: () => ({ topics: [] }),
    hasSeekOffset: () => false,
    isPaused: () => false,
    pause: () => undefined,
    resume: () => undefined,
    getNodeIds: () => [],
  };
  const instrumentationEmitter = {
    emit: (type: string, payload: { fetchedOffset: string; lastOffset: string }) => {
      if (type !== endBatchProcessEvent) return;
      if (Number(payload.fetchedOffset) <= reading.position) reading.position = Math.max(reading.position, Number(payload.lastOffset) + 1);
    },
  };
  const eachBatch = async ({ batch, resolveOffset }: { batch: InternalBatch; resolveOffset: (offset: string) => void }) => {
    for (const message of batch.messages) reading.values.push(message.value?.toString() ?? '');
    const last = batch.messages[batch.messages.length - 1];
    if (style === 'eachBatch, resolving the batch end') resolveOffset(batch.lastOffset());
    else if (style === 'eachBatch, resolving the last message' && last !== undefined) resolveOffset(last.offset);
  };
  const eachMessage = async ({ message }: { message: InternalMessage }) => void reading.values.push(message.value?.toString() ?? '');
  const runner = new Runner({
    logger: silentLogger(),
    consumerGroup,
    instrumentationEmitter,
    eachBatchAutoResolve: style === 'eachBatch with auto-resolve',
    concurrency: 1,
    autoCommit: false,
    onCrash: () => undefined,
    ...(style === 'eachMessage' ? { eachMessage } : { eachBatch }),
  });
  runner.running = true;
  while (reading.next < highWatermark && reading.fetches < 20) {
    reading.fetches++;
    const batches = fetchFrom(log, reading.next);
    await runner.handleBatch(await fetchedBatch(reading.next, batches, { highWatermark, abortedTransactions: [{ producerId: String(p2), firstOffset: '2' }] }));
  }
  return reading;
}

describe('record batches emptied by compaction, in the patched kafkajs', () => {
  it('a fetch that returns only an emptied batch ends at that batch’s last offset', async () => {
    const batch = await fetchedBatch(2, [emptied(2, 3, p2)], { highWatermark });
    expect(batch.messages).toEqual([]);
    expect(batch.firstOffset()).toBeNull();
    expect(batch.lastOffset()).toBe('3');
    expect(batch.isEmptyDueToFiltering()).toBe(true);
  });

  it('a batch whose last records were compacted away ends at the batch’s last offset, not its last record', async () => {
    const batch = await fetchedBatch(5, [{ ...data(5, p1, 'kept-a', 'kept-b'), lastOffsetDelta: 4 }], { highWatermark: 10 });
    expect(batch.messages.map((m) => m.offset)).toEqual(['5', '6']);
    expect(batch.lastOffset()).toBe('9');
  });

  it('an emptied batch after records of the same fetch moves the end past it', async () => {
    const batch = await fetchedBatch(0, [data(0, p1, 'a'), marker(1, p1, 'commit'), emptied(2, 3, p2)], { highWatermark });
    expect(batch.messages.map((m) => m.value?.toString())).toEqual(['a']);
    expect(batch.lastOffset()).toBe('3');
  });

  for (const style of ['eachBatch, resolving the batch end', 'eachBatch, resolving the last message', 'eachBatch with auto-resolve', 'eachMessage'] as const) {
    it(`a consumer using ${style} reads past an emptied batch to the end of the partition`, async () => {
      const reading = await readWithRunner(compactedLog, style);
      expect(reading.values).toEqual(['a', 'c']);
      expect(reading.next).toBe(highWatermark);
      expect(reading.fetches).toBeLessThanOrEqual(4);
    });
  }

  it('the end-of-batch event says where the fetch started, so a listener can move its position past an emptied batch', async () => {
    const reading = await readWithRunner(compactedLog, 'eachBatch, resolving the batch end');
    expect(reading.position).toBe(highWatermark);
  });
});
