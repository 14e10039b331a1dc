/**
 * The patched kafkajs consumer's `enforceRebalance()` (the Java consumer's
 * name): the member joins the group again at its next fetch even when no
 * batch arrives. Tally relies on it after a task is fenced: the group must
 * hand the task out again although the input may be idle.
 */
import type { Consumer } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, kafkaClient, produce, uniqueName, waitFor } from './kafka-helpers.js';

let consumer: Consumer | undefined;
afterEach(async () => {
  await consumer?.disconnect();
  consumer = undefined;
});

async function idleMember(topic: string): Promise<{ consumer: Consumer; joins: string[]; batches: number[] }> {
  await createTopics({ [topic]: 1 });
  const c = kafkaClient().consumer({ groupId: uniqueName('enforce-rebalance'), maxWaitTimeInMs: 100, heartbeatInterval: 500 });
  const joins: string[] = [];
  const batches: number[] = [];
  c.on(c.events.GROUP_JOIN, (event) => void joins.push(event.payload.memberId));
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({ eachBatch: async ({ batch }) => void batches.push(batch.messages.length) });
  await waitFor('the first join', () => joins.length === 1, 30_000);
  return { consumer: c, joins, batches };
}

describe('enforceRebalance in the patched kafkajs', () => {
  it('an idle member joins again, as the same member, and goes on consuming', async () => {
    const topic = uniqueName('enforce-rebalance');
    const member = await idleMember(topic);
    consumer = member.consumer;
    // Idle: no join happens on its own.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(member.joins).toHaveLength(1);
    member.consumer.enforceRebalance();
    await waitFor('a second join', () => member.joins.length === 2, 30_000);
    expect(member.joins[1]).toBe(member.joins[0]);
    await produce(topic, [{ key: 'k', value: 'after the rejoin' }]);
    await waitFor('the record produced after the rejoin', () => member.batches.length > 0, 30_000);
    // The request was served once: no join follows.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(member.joins).toHaveLength(2);
  });
});
