import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import { ratingStoreNames, type RatingCloseState } from '../../processors/index.js';
import { partitionForKey } from '../../topology/internal/partitioner.js';
import { acme, closeTracked, ratingConfig, RatingHarness, startTracked, usage } from './rating-harness.js';

afterEach(closeTracked);
const start = startTracked;

const brief = (d: BillingDetailRecord): string => `${d.periodStart.slice(0, 10)} q=${d.quantity} ${d.status} r${d.revision}`;
const tokens = (subject: string, time: string, value: number) => usage('llm.tokens', subject, time, { tokens: value });
// acme is in Los Angeles with anchor day 1: February ends 2024-03-01T08:00Z; allowedLateness is 1 h, so it closes at 09:00Z.

describe('billing detail finalization', () => {
  it('turns final once stream time reaches periodEnd + allowedLateness, not a millisecond before', async () => {
    const h = await start();
    await h.pipe(tokens('acme-prod', '2024-02-20T10:00:00Z', 10));
    await h.pipe(tokens('acme-prod', '2024-03-01T08:59:00Z', 1)); // window [08:59, 09:00): stream time 08:59:59.999
    expect(h.billing().map(brief)).toEqual(['2024-02-01 q=10 provisional r1', '2024-03-01 q=1 provisional r1']);
    await h.pipe(tokens('acme-prod', '2024-03-01T09:00:00Z', 1)); // stream time reaches 09:00
    expect(h.billing().map(brief)).toEqual(['2024-03-01 q=2 provisional r2', '2024-02-01 q=10 final r2']);
    expect(h.counters.billingFinals).toBe(1);
  });

  it('turns final by the wall clock when the partition is idle', async () => {
    const h = await start(undefined, { wallClockMs0: Date.parse('2024-02-20T12:00:00Z') });
    await h.pipe(tokens('acme-prod', '2024-02-20T10:00:00Z', 10));
    expect(h.billing().map(brief)).toEqual(['2024-02-01 q=10 provisional r1']);
    await h.driver.advanceWallClockTime(Date.parse('2024-03-01T08:59:59.999Z') - h.driver.wallClockMs);
    expect(h.billing()).toEqual([]);
    await h.driver.advanceWallClockTime(1);
    expect(h.billing().map(brief)).toEqual(['2024-02-01 q=10 final r2']);
    await h.driver.advanceWallClockTime(60_000);
    expect(h.billing()).toEqual([]);
  });

  it('keeps the finalization bound across a restart: finals are not repeated, revisions continue', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tally-rating-restart-'));
    try {
      const options = { stateDir, wallClockMs0: Date.parse('2024-02-20T12:00:00Z') };
      const first = await RatingHarness.start(undefined, options);
      await first.pipe(tokens('acme-prod', '2024-02-20T10:00:00Z', 10));
      await first.driver.advanceWallClockTime(Date.parse('2024-03-01T10:00:00Z') - first.driver.wallClockMs);
      expect(first.billing().map(brief)).toEqual(['2024-02-01 q=10 provisional r1', '2024-02-01 q=10 final r2']);
      await first.close();

      const second = await start(undefined, { ...options, wallClockMs0: Date.parse('2024-03-01T10:00:00Z') });
      const close = await second.driver.getKeyValueStore<RatingCloseState>(ratingStoreNames.closeState, 0).get('close');
      expect(close?.finalizedThroughMs).toBe(Date.parse('2024-03-01T10:00:00Z'));
      await second.driver.advanceWallClockTime(5_000);
      await second.pipe(tokens('acme-prod', '2024-03-01T10:00:00Z', 3));
      expect(second.billing().map(brief)).toEqual(['2024-03-01 q=3 provisional r1']);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('never drops usage for a period already final: it corrects the final detail (revision + 1, still final)', async () => {
    // Two partitions: the customer's two subjects are aggregated by different tasks with their own stream times.
    const subjects = ['s-0', 's-1', 's-2', 's-3', 's-4', 's-5'];
    const onPartition = (p: number) => subjects.find((s) => partitionForKey(Buffer.from(s), 2) === p) as string;
    const [ahead, behind] = [onPartition(0), onPartition(1)];
    const customers = [{ ...acme, subjects: [ahead, behind] }];
    const h = await start(ratingConfig({ customers }), { partitions: { 'usage-events': 2, 'tally-customers': 2 } });
    await h.pipe(tokens(behind, '2024-02-29T07:00:00Z', 10)); // 2024-02-28 23:00 in Los Angeles
    await h.pipe(tokens(ahead, '2024-03-05T10:00:00Z', 1)); // rating's stream time passes February's close
    expect(h.billing().map(brief)).toEqual(['2024-02-01 q=10 provisional r1', '2024-03-01 q=1 provisional r1', '2024-02-01 q=10 final r2']);
    // The lagging subject's meter window is still open: its usage reaches rating after the period went final.
    await h.pipe(tokens(behind, '2024-02-29T07:30:00Z', 5));
    expect(h.billing().map(brief)).toEqual(['2024-02-01 q=15 final r3']);
    expect(h.counters.billingCorrections).toBe(1);
  });
});
