/**
 * The floor under `bench:pipeline-core --keyed-by-subject`: the same input
 * and the same durable work, written as one straight loop with no runtime
 * around it. What the loop keeps is what the metering semantics cannot do
 * without, per event: decode the CloudEvent's JSON and read its time; look
 * its identity up and remember it (written to LevelDB at the flush, as a
 * restart needs it); fold it into the window of every meter that reads its
 * type; and at every flush (every 1 000 events), for each window changed
 * since the last one, write its value to LevelDB and build the meter
 * record's key and JSON text as the bytes a producer sends. What it leaves
 * out: validation beyond the fields read, the changelog records (their
 * bytes are the store's), retention, late events, dead letters, finals,
 * stream time, processor nodes and the record cache's budget.
 *
 *   npm run bench:metering-floor -- --events 200000 [--subjects 10000] [--no-level]
 *
 * The loop's CPU per event, beside the topology's in `bench:pipeline-core`
 * on the same machine, says how much of the topology's cost is the work and
 * how much is the runtime: no Node program does this work for less than
 * the floor, so a target below it needs another engine (a JSON decoder and a
 * store that are not V8's and LevelDB's), not a better runtime.
 * `--no-level` keeps the state in memory only: the share LevelDB takes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { commandLine, machineLine, threadCpuSeconds } from './bench-kit.js';
import { benchMessages, type BenchEventOptions } from './metering-events.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    subjects: { type: 'string', default: '10000' },
    duplicates: { type: 'string', default: '0.05' },
    'flush-every': { type: 'string', default: '1000' },
    'no-level': { type: 'boolean', default: false },
  },
});

const windowSizeMs = 3_600_000;
const flushEvery = Number(args['flush-every']);
const nowMs = Date.now();
const input: BenchEventOptions = {
  events: Number(args.events),
  subjects: Number(args.subjects),
  duplicateShare: Number(args.duplicates),
  fromMs: Math.floor((nowMs - 40 * 60_000) / 60_000) * 60_000,
  spanMs: 30 * 60_000,
  keyBySubject: true,
};

/** One meter's window: its accumulator, count, and whether a flush owes it a write. */
interface Window {
  readonly meter: Meter;
  readonly subject: string;
  readonly groupByJson: string;
  readonly startMs: number;
  acc: number;
  count: number;
  dirty: boolean;
}

interface Meter {
  readonly slug: string;
  readonly aggregation: 'COUNT' | 'SUM' | 'MAX';
  readonly windows: Map<string, Window>;
  readonly db: ClassicLevel<Buffer, Buffer> | undefined;
}

const levelOptions = { keyEncoding: 'buffer', valueEncoding: 'buffer', cacheSize: 1024 * 1024, writeBufferSize: 1024 * 1024 } as const;
const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-floor-'));
const openDb = async (name: string): Promise<ClassicLevel<Buffer, Buffer> | undefined> => {
  if (args['no-level']) return undefined;
  const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, name), levelOptions);
  await db.open();
  return db;
};
const meter = async (slug: string, aggregation: Meter['aggregation']): Promise<Meter> => ({ slug, aggregation, windows: new Map(), db: await openDb(slug) });
const requests = await meter('api_requests', 'COUNT');
const tokens = await meter('tokens', 'SUM');
const peak = await meter('peak', 'MAX');
const meters = [requests, tokens, peak];
const dedupeDb = await openDb('dedupe');

const batches: Buffer[][] = [];
for (let i = 0; i < input.events; i += 10_000) batches.push((await benchMessages(i, 10_000, input)).map((m) => m.value as Buffer));

const utf8 = new TextDecoder('utf-8', { fatal: true });
const identities = new Set<string>();
let newIdentities: string[] = [];
let dirty: Window[] = [];
let duplicates = 0;
let outputBytes = 0;

function fold(m: Meter, subject: string, groupByJson: string, startMs: number, value: number): void {
  const key = `${subject}\u0000${groupByJson}\u0000${startMs}`;
  let window = m.windows.get(key);
  if (window === undefined) {
    window = { meter: m, subject, groupByJson, startMs, acc: m.aggregation === 'MAX' ? Number.NEGATIVE_INFINITY : 0, count: 0, dirty: false };
    m.windows.set(key, window);
  }
  window.acc = m.aggregation === 'COUNT' ? window.acc + 1 : m.aggregation === 'SUM' ? window.acc + value : Math.max(window.acc, value);
  window.count++;
  if (!window.dirty) {
    window.dirty = true;
    dirty.push(window);
  }
}

/** ISO-8601 text of a window bound; a run has few, each made once. */
const isoTexts = new Map<number, string>();
function iso(timeMs: number): string {
  let text = isoTexts.get(timeMs);
  if (text === undefined) isoTexts.set(timeMs, (text = new Date(timeMs).toISOString()));
  return text;
}

async function flush(): Promise<void> {
  const writes = new Map<Meter, ReturnType<ClassicLevel<Buffer, Buffer>['batch']>>();
  for (const window of dirty) {
    window.dirty = false;
    const m = window.meter;
    const storeValue = Buffer.allocUnsafe(16);
    storeValue.writeDoubleLE(window.acc, 0);
    storeValue.writeDoubleLE(window.count, 8);
    if (m.db !== undefined) {
      let batch = writes.get(m);
      if (batch === undefined) writes.set(m, (batch = m.db.batch()));
      batch.put(Buffer.from(`${window.subject}\u0000${window.groupByJson}\u0000${window.startMs}`, 'latin1'), storeValue);
    }
    const start = iso(window.startMs);
    const end = iso(window.startMs + windowSizeMs);
    const key = Buffer.from(`${m.slug}|${window.subject}|${window.groupByJson}|${start}`);
    const value = Buffer.from(
      `{"meter":"${m.slug}","subject":${JSON.stringify(window.subject)},"groupBy":${window.groupByJson},"windowStart":"${start}","windowEnd":"${end}",` +
        `"aggregation":"${m.aggregation}","value":"${window.acc}","count":${window.count},"final":false}`,
    );
    outputBytes += key.length + value.length;
  }
  dirty = [];
  const identityBatch = dedupeDb?.batch();
  if (identityBatch !== undefined) {
    for (const identity of newIdentities) {
      const value = Buffer.allocUnsafe(8);
      value.writeDoubleLE(0, 0);
      identityBatch.put(Buffer.from(identity, 'latin1'), value);
    }
  }
  newIdentities = [];
  await Promise.all([...[...writes.values()].map((batch) => batch.write()), identityBatch?.write()]);
}

const threadsBefore = await threadCpuSeconds();
const cpuBefore = process.cpuUsage();
const started = performance.now();
let sinceFlush = 0;
for (const batch of batches) {
  for (const bytes of batch) {
    const event = JSON.parse(utf8.decode(bytes)) as { id: string; source: string; type: string; subject: string; time: string; data: Record<string, unknown> };
    if (typeof event.id !== 'string' || typeof event.source !== 'string' || typeof event.subject !== 'string' || typeof event.time !== 'string') throw new Error('bad bench event');
    const timeMs = Date.parse(event.time);
    const identity = JSON.stringify([event.source, event.id]);
    if (identities.has(identity)) duplicates++;
    else {
      identities.add(identity);
      newIdentities.push(identity);
      const startMs = timeMs - (timeMs % windowSizeMs);
      if (event.type === 'api.request') fold(requests, event.subject, `{"route":${JSON.stringify(event.data['route'])}}`, startMs, 1);
      else {
        fold(tokens, event.subject, '{}', startMs, event.data['tokens'] as number);
        fold(peak, event.subject, '{}', startMs, event.data['concurrency'] as number);
      }
    }
    if (++sinceFlush === flushEvery) {
      sinceFlush = 0;
      await flush();
    }
  }
}
await flush();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const threadsAfter = await threadCpuSeconds();
await Promise.all([...meters.map((m) => m.db?.close()), dedupeDb?.close()]);
await rm(dir, { recursive: true, force: true });

console.log(`$ ${commandLine()}`);
console.log(`machine: ${machineLine()}`);
console.log(`duplicates dropped ${duplicates}; meter record bytes per event ${(outputBytes / input.events).toFixed(0)}`);
console.log(
  `metering floor, ${args['no-level'] ? 'state in memory only' : 'state in LevelDB'}, ${input.subjects} subjects, flush every ${flushEvery} events: ` +
    `${Math.round(input.events / seconds).toLocaleString('en-US')} events/s, ${((cpu.user + cpu.system) / input.events).toFixed(1)} µs CPU per event` +
    (threadsBefore === undefined || threadsAfter === undefined
      ? ''
      : ` (main thread ${(((threadsAfter.main - threadsBefore.main) * 1e6) / input.events).toFixed(1)} µs, other threads ${(((threadsAfter.others - threadsBefore.others) * 1e6) / input.events).toFixed(1)} µs)`),
);
