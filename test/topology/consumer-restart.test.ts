/**
 * Between a consumer's crash and its restart kafkajs has no group, and
 * refuses pause, resume and seek with a non-retriable error. The task
 * manager changes positions on its own schedule (a task rebuilt after a
 * failed commit starts restoring), so such a call must not fail the app:
 * the restarted consumer's join re-applies every position. A kafkajs
 * consumer that was never run is in the same state, so it stands in for
 * one between restarts (no broker needed: nothing connects).
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { isConsumerRestarting } from '../../topology/kafka/kafka-errors.js';
import type { KafkaTask } from '../../topology/kafka/kafka-task.js';
import { TaskPartitions } from '../../topology/kafka/task-partitions.js';
import type { TopicPlan } from '../../topology/kafka/topics.js';
import { TaskId } from '../../topology/task-id.js';
import type { Topology } from '../../topology/topology.js';

const consumers: Consumer[] = [];
afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.disconnect();
});

function groupless(): Consumer {
  const consumer = new Kafka({ clientId: 'restart-test', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING }).consumer({ groupId: 'restart-test' });
  consumers.push(consumer);
  return consumer;
}

const plan = {
  sources: new Map([['events', { logical: 'events', subtopology: 0 }]]),
  changelogs: new Set(['app-store-changelog']),
} as unknown as TopicPlan;
const topology = { isBootstrapTopic: () => false } as unknown as Topology;
const task = { id: new TaskId(0, 1), partition: 1, positions: new Map([['events', 42]]) } as unknown as KafkaTask;

describe('a consumer between crash and restart', () => {
  it('is recognised by the error kafkajs throws for it, and only by that one', () => {
    const consumer = groupless();
    let refusal: unknown;
    try {
      consumer.seek({ topic: 'events', partition: 0, offset: '0' });
    } catch (error) {
      refusal = error;
    }
    expect(isConsumerRestarting(refusal)).toBe(true);
    expect(isConsumerRestarting(new Error('consumer#run must be called first'))).toBe(false); // not kafkajs's
    expect(isConsumerRestarting(undefined)).toBe(false);
  });

  it('does not fail a task’s pauses, resumes and seeks: the next join puts them back', () => {
    const partitions = new TaskPartitions(groupless(), plan, topology);
    expect(() => {
      partitions.pauseChangelogs();
      partitions.restore(task, [{ topic: 'app-store-changelog', partition: 1, position: 7 }]);
      partitions.putBack(task, false);
      partitions.pause('events', 1);
      partitions.seek('events', 1, 43);
    }).not.toThrow();
  });

  it('still fails on any other refusal', () => {
    const consumer = groupless();
    const partitions = new TaskPartitions(consumer, plan, topology);
    // A negative offset is refused before kafkajs even looks for the group.
    expect(() => partitions.seek('events', 1, -5)).toThrow(/Offset must not be a negative number/);
  });
});
