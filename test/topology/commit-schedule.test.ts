import { describe, expect, it } from 'vitest';
import type { CommitRound } from '../../topology/kafka/commit.js';
import { CommitSchedule } from '../../topology/kafka/commit-schedule.js';

const done: CommitRound = { committed: 1, failed: [] };

function deferredRound(): { finished: Promise<CommitRound>; end: () => void } {
  let end: () => void = () => undefined;
  const finished = new Promise<CommitRound>((resolve) => {
    end = () => resolve(done);
  });
  return { finished, end };
}

describe('the commit schedule', () => {
  it('is due once the interval has passed since the last round began', async () => {
    const schedule = new CommitSchedule(100);
    expect(schedule.isDue(100)).toBe(true);
    schedule.began(1_000, { finished: Promise.resolve(done), startedMs: 0 });
    await Promise.resolve();
    expect(schedule.isDue(1_099)).toBe(false);
    expect(schedule.isDue(1_100)).toBe(true);
  });

  it('is not due while the last round is under way, however long ago it began, and is due as soon as it ends', async () => {
    const schedule = new CommitSchedule(100);
    const round = deferredRound();
    schedule.began(1_000, { finished: round.finished, startedMs: 0 });
    expect(schedule.isDue(5_000)).toBe(false);
    expect(schedule.ended).toBe(false);
    expect(schedule.underWay?.finished).toBe(round.finished);
    round.end();
    await round.finished;
    await Promise.resolve();
    expect(schedule.ended).toBe(true);
    expect(schedule.isDue(5_000)).toBe(true);
    schedule.handled();
    expect(schedule.underWay).toBeUndefined();
    expect(schedule.ended).toBe(false);
    expect(schedule.isDue(1_050)).toBe(false);
  });
});
