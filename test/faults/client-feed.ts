/**
 * Input sent the way an application sends it: through the usage client
 * (client/), which keeps every recorded event in its outbox until the broker
 * acknowledges it, and retries through outages. One client per event source,
 * since a client stamps its own `source`. Each event keeps its id, time and
 * data, so the reference reads it like any other on-time record.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUsageClient, type UsageClient } from '../../client/index.js';
import type { CloudEvent } from '../kafka/metering-truth.js';
import type { SentRecord } from './fault-inputs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ClientFeed {
  /** Events recorded so far (each durably in an outbox), labelled for the reference. */
  readonly recorded: SentRecord[] = [];
  /** What the clients warned about (send failures while the broker is away). */
  readonly warnings: string[] = [];

  private constructor(
    private readonly clients: ReadonlyMap<string, UsageClient>,
    private readonly workDir: string,
  ) {}

  /** Opens one client per source (while the broker is up: opening connects). */
  static async open(brokers: readonly string[], topic: string, sources: readonly string[]): Promise<ClientFeed> {
    const workDir = await mkdtemp(join(tmpdir(), 'tally-faults-outbox-'));
    const clients = new Map<string, UsageClient>();
    const feed = new ClientFeed(clients, workDir);
    for (const source of sources) {
      const client = createUsageClient({
        brokers,
        topic,
        source,
        outboxDir: join(workDir, source),
        batchSize: 100,
        lingerMs: 10,
        backoff: { initialMs: 200, maxMs: 2_000 },
        closeTimeoutMs: 5_000,
        logger: { info: () => undefined, warn: (message) => feed.warnings.push(message) },
      });
      clients.set(source, client);
      await client.open();
    }
    return feed;
  }

  /** Records `events` in order, `chunk` at a time, `intervalMs` apart; resolves once each is in its client's outbox, not once sent. */
  async record(events: readonly CloudEvent[], pace: { chunk: number; intervalMs: number }): Promise<void> {
    for (let i = 0; i < events.length; i += pace.chunk) {
      for (const event of events.slice(i, i + pace.chunk)) {
        const client = this.clients.get(event.source);
        if (client === undefined) throw new Error(`test: no usage client for source ${event.source}`);
        const { id, type, subject, time, data } = event;
        const sent = await client.record({ id, type, subject, time, data });
        this.recorded.push({ kind: 'on-time', key: subject, value: Buffer.from(JSON.stringify(sent)), event });
      }
      await sleep(pace.intervalMs);
    }
  }

  /** Events recorded but not yet acknowledged by the broker, over every client. */
  pending(): number {
    return [...this.clients.values()].reduce((n, c) => n + c.stats().pending, 0);
  }

  /** Waits (bounded) until every recorded event is acknowledged, then closes the clients. */
  async flushAndClose(timeoutMs: number): Promise<void> {
    for (const client of this.clients.values()) await client.flush(timeoutMs);
    await this.close();
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) await client.close().catch(() => undefined);
    await rm(this.workDir, { recursive: true, force: true });
  }
}
