/**
 * The cheap correctness check of the side-by-side benchmark: reads a
 * contender's meters topic (read_committed) and adds up its final records,
 * to compare with the other contender and with what the input holds.
 */
import type { Kafka } from 'kafkajs';
import type { ExpectedTotals } from './vs-kafka-streams-input.js';

export interface MeterOutputTotals {
  readonly updates: number;
  readonly finals: number;
  /** Distinct (meter, subject, group, window) among the finals. */
  readonly windows: number;
  /** Sum of the api_requests finals' values. */
  readonly requests: number;
  /** Sum of the tokens finals' values, in quarters. */
  readonly tokenQuarters: number;
}

interface MeterRecordFields {
  readonly meter: string;
  readonly subject: string;
  readonly groupBy: Record<string, string>;
  readonly windowStart: string;
  readonly value: string;
  readonly final: boolean;
}

/** Reads `topic` from the start until no record has come for `quietMs` (after the first, or 20 s without any). */
export async function readMeterTotals(kafka: Kafka, topic: string, quietMs = 4_000): Promise<MeterOutputTotals> {
  const consumer = kafka.consumer({ groupId: `bench-check-${topic}-${Date.now().toString(36)}`, maxBytes: 16 << 20 });
  const finalKeys = new Set<string>();
  let updates = 0;
  let finals = 0;
  let requests = 0;
  let tokenQuarters = 0;
  let lastRecordMs = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (message.value === null) continue;
          const record = JSON.parse(message.value.toString()) as MeterRecordFields;
          if (!record.final) {
            updates++;
            continue;
          }
          finals++;
          finalKeys.add(`${record.meter}|${record.subject}|${JSON.stringify(record.groupBy)}|${Date.parse(record.windowStart)}`);
          if (record.meter === 'api_requests') requests += Number(record.value);
          else if (record.meter === 'tokens') tokenQuarters += Math.round(Number(record.value) * 4);
        }
        lastRecordMs = Date.now();
      },
    });
    const startedMs = Date.now();
    while (lastRecordMs === 0 ? Date.now() - startedMs < 20_000 : Date.now() - lastRecordMs < quietMs) await new Promise((r) => setTimeout(r, 250));
  } finally {
    await consumer.disconnect();
  }
  return { updates, finals, windows: finalKeys.size, requests, tokenQuarters };
}

/** "agree" when both contenders' finals match the input exactly, else what differs. */
/** Each contender's totals against the input's; `agree` or what disagrees. */
export function compareTotals(expected: ExpectedTotals, contenders: ReadonlyMap<string, MeterOutputTotals>): string {
  const problems: string[] = [];
  const check = (what: string, want: number, got: (t: MeterOutputTotals) => number) => {
    for (const [name, totals] of contenders) {
      if (got(totals) !== want) problems.push(`${name} ${what} ${got(totals)} (input: ${want})`);
    }
  };
  check('final windows', expected.windows, (t) => t.windows);
  check('final records', expected.windows, (t) => t.finals);
  check('requests', expected.requests, (t) => t.requests);
  check('token quarters', expected.tokenQuarters, (t) => t.tokenQuarters);
  return problems.length === 0 ? 'agree' : `DISAGREE: ${problems.join('; ')}`;
}
