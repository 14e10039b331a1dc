/**
 * kafkajs's read_committed filter, fed crafted fetch responses. The broker
 * lists aborted transactions in the order their abort markers were written;
 * the filter must sort them and activate every one that starts at or before
 * a record batch, as the Java consumer does.
 */
import { describe, expect, it } from 'vitest';
import { data, decodeRecordSet, fetchedBatch, filterAbortedMessages, marker, values } from './kafkajs-internals.js';

const p1 = 1001;
const p2 = 1002;
const p3 = 1003;

describe('the read_committed filter of the patched kafkajs', () => {
  it('drops aborted transactions listed out of first-offset order, interleaved with other producers', async () => {
    // P1 starts first but aborts last, so the broker lists P2's abort before P1's.
    const log = [
      data(0, p1, 'p1-aborted-a'),
      data(1, p2, 'p2-aborted'),
      data(2, p3, 'p3-committed'),
      data(3, p1, 'p1-aborted-b'),
      marker(4, p2, 'abort'),
      marker(5, p3, 'commit'),
      marker(6, p1, 'abort'),
      data(7, p2, 'p2-committed'),
      marker(8, p2, 'commit'),
    ];
    const batch = await fetchedBatch(0, log, {
      highWatermark: 9,
      abortedTransactions: [
        { producerId: String(p2), firstOffset: '1' },
        { producerId: String(p1), firstOffset: '0' },
      ],
    });
    expect(values(batch.messages)).toEqual(['p3-committed', 'p2-committed']);
    expect(batch.lastOffset()).toBe('8');
  });

  it('activates every aborted transaction that began before the fetch offset, not one per record', async () => {
    // Fetching from 2: both aborted transactions began earlier, and P2's record comes first.
    const log = [data(0, p1, 'p1-a'), data(1, p2, 'p2-a'), data(2, p2, 'p2-b'), data(3, p1, 'p1-b'), marker(4, p1, 'abort'), marker(5, p2, 'abort'), data(6, p3, 'p3-committed'), marker(7, p3, 'commit')];
    const batch = await fetchedBatch(2, log, {
      highWatermark: 8,
      abortedTransactions: [
        { producerId: String(p1), firstOffset: '0' },
        { producerId: String(p2), firstOffset: '1' },
      ],
    });
    expect(values(batch.messages)).toEqual(['p3-committed']);
  });

  it('reads a producer again after its abort marker, and aborts its next transaction when listed again', async () => {
    const log = [
      data(0, p1, 'first-aborted'),
      marker(1, p1, 'abort'),
      data(2, p1, 'committed'),
      marker(3, p1, 'commit'),
      data(4, p1, 'second-aborted-a', 'second-aborted-b'),
      data(6, p2, 'other-committed'),
      marker(7, p2, 'commit'),
      marker(8, p1, 'abort'),
    ];
    const batch = await fetchedBatch(0, log, {
      highWatermark: 9,
      abortedTransactions: [
        { producerId: String(p1), firstOffset: '4' },
        { producerId: String(p1), firstOffset: '0' },
      ],
    });
    expect(values(batch.messages)).toEqual(['committed', 'other-committed']);
  });

  it('takes only a control record as an abort marker, not a data record whose key looks like one', async () => {
    const messages = await decodeRecordSet([
      { baseOffset: 0, producerId: p1, transactional: true, records: [{ offsetDelta: 0, key: '\u0000\u0000\u0000\u0000', value: 'aborted-with-marker-like-key' }] },
      data(1, p1, 'aborted-after-it'),
      marker(2, p1, 'abort'),
    ]);
    const kept = filterAbortedMessages({ messages, abortedTransactions: [{ producerId: String(p1), firstOffset: '0' }] });
    expect(values(kept.filter((m) => !m.isControlRecord))).toEqual([]);
  });

  it('keeps non-transactional records of a producer id that has an aborted transaction listed', async () => {
    const messages = await decodeRecordSet([{ ...data(0, p1, 'idempotent'), transactional: false }, data(1, p2, 'aborted'), marker(2, p2, 'abort')]);
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [
        { producerId: String(p2), firstOffset: '1' },
        { producerId: String(p1), firstOffset: '0' },
      ],
    });
    expect(values(kept.filter((m) => !m.isControlRecord))).toEqual(['idempotent']);
  });
});
