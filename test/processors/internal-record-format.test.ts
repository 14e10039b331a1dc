/**
 * Upgrades: a store whose changelog an older Tally wrote as JSON restores
 * into this version and keeps counting; `app.internalRecordFormat: json`
 * writes what that older version reads.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TallyConfig } from '../../schemas/config-types.js';
import { isBinaryRecord } from '../../schemas/index.js';
import { expandChangelogBatches } from '../../state/changelog-batch.js';
import type { BytesWrite, StateStore } from '../../state/index.js';
import type { LoggedRecord } from '../../topology/internal/topic-log.js';
import { MeteringHarness, cloudEvent, meteringConfig, t0 } from './metering-harness.js';

let harnesses: MeteringHarness[] = [];
let stateDirs: string[] = [];
afterEach(async () => {
  for (const harness of harnesses) await harness.close();
  for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
  harnesses = [];
  stateDirs = [];
});

const withFormat = (format: 'binary' | 'json'): TallyConfig => {
  const config = meteringConfig();
  return { ...config, app: { ...config.app, internalRecordFormat: format } };
};

async function start(config: TallyConfig, stateDir?: string): Promise<MeteringHarness> {
  const harness = await MeteringHarness.start(config, stateDir === undefined ? {} : { stateDir });
  harnesses.push(harness);
  return harness;
}

/** Every changelog and repartition record the harness wrote, by topic (batches of the dedupe changelog expanded). */
function internalRecords(harness: MeteringHarness): Map<string, BytesWrite[]> {
  const byTopic = new Map<string, BytesWrite[]>();
  for (const topic of harness.driver.topicsWithRecords()) {
    if (!topic.endsWith('-changelog') && !topic.endsWith('-repartition')) continue;
    const records = harness.driver.readAll(topic).map((record: LoggedRecord) => ({ key: record.key as Buffer, value: record.value }));
    byTopic.set(topic, [...expandChangelogBatches(records)]);
  }
  return byTopic;
}

function valuesOf(records: Map<string, BytesWrite[]>): Buffer[] {
  return [...records.values()].flat().flatMap((record) => (record.value === null ? [] : [record.value]));
}

const oldEvents = [
  cloudEvent({ id: 'e1', subject: 'ñandú', timeMs: t0 + 1_000, data: { route: '/a' } }),
  cloudEvent({ id: 'e2', subject: 'ñandú', timeMs: t0 + 2_000, data: { route: '/a' } }),
  cloudEvent({ id: 'e3', subject: 'ñandú', type: 'llm.tokens', timeMs: t0 + 3_000, data: { tokens: '123456789012345678901234567890.000000001' } }),
];

describe('app.internalRecordFormat', () => {
  it('json writes every changelog and repartition value as JSON text', async () => {
    const old = await start(withFormat('json'));
    await old.pipeAll(oldEvents);
    const values = valuesOf(internalRecords(old));
    expect(values.length).toBeGreaterThan(4);
    for (const value of values) expect(() => JSON.parse(value.toString('utf8'))).not.toThrow();
  });

  it('binary (the default) writes every changelog and repartition value in the binary form', async () => {
    const current = await start(meteringConfig());
    await current.pipeAll(oldEvents);
    const values = valuesOf(internalRecords(current));
    expect(values.length).toBeGreaterThan(4);
    for (const value of values) expect(isBinaryRecord(value)).toBe(true);
  });

  it('stores restored from JSON changelogs keep deduplicating and counting exactly, and are rewritten in binary', async () => {
    const old = await start(withFormat('json'));
    await old.pipeAll(oldEvents);
    expect(old.meters().map((record) => record.value)).toEqual(['1', '2', '123456789012345678901234567890.000000001']);

    // Restore as a task does on assignment, before its processors start (they index open windows at start).
    const stateDir = await mkdtemp(join(tmpdir(), 'tally-upgrade-'));
    stateDirs.push(stateDir);
    const restoring = await MeteringHarness.start(meteringConfig(), { stateDir });
    const appId = meteringConfig().app.id;
    let restoredStores = 0;
    for (const [topic, records] of internalRecords(old)) {
      if (!topic.endsWith('-changelog')) continue;
      const storeName = topic.slice(appId.length + 1, -'-changelog'.length);
      await (restoring.driver.getWindowStore(storeName) as unknown as StateStore).restore(records);
      restoredStores++;
    }
    await restoring.close();
    expect(restoredStores).toBe(4); // dedupe, two meters, close state

    const current = await start(meteringConfig(), stateDir);

    await current.pipe(oldEvents[0] as Record<string, unknown>); // a duplicate the old version saw
    expect(current.counters.duplicates).toBe(1);
    await current.pipe(cloudEvent({ id: 'e4', subject: 'ñandú', timeMs: t0 + 4_000, data: { route: '/a' } }));
    await current.pipe(cloudEvent({ id: 'e5', subject: 'ñandú', type: 'llm.tokens', timeMs: t0 + 5_000, data: { tokens: '0.000000001' } }));
    const meters = current.meters();
    expect(meters.map((record) => [record.meter, record.value, record.count])).toEqual([
      ['api_requests', '3', 3],
      ['tokens', '123456789012345678901234567890.000000002', 2],
    ]);

    const rewritten = [...internalRecords(current).entries()].filter(([topic]) => topic.includes('-meter-'));
    expect(rewritten.length).toBeGreaterThan(0);
    for (const [, records] of rewritten) for (const record of records) expect(record.value === null || isBinaryRecord(record.value)).toBe(true);
  });
});
