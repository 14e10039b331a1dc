/**
 * Creating topics "by hand" (as an operator might have, wrongly) for the
 * topics tests, and waiting until the broker lists them with leaders (not
 * with kafkajs' waitForLeaders, which does not retry the broker's brief
 * "unknown topic" right after a create).
 */
import { waitForLeaders } from '../../service/topics/topic-state.js';
import { kafkaClient } from '../kafka/kafka-helpers.js';

export async function createTopicsWithPolicy(topics: Record<string, number>, cleanupPolicy: string): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: cleanupPolicy }] })),
      waitForLeaders: false,
    });
    await waitForLeaders(admin, Object.keys(topics));
  } finally {
    await admin.disconnect();
  }
}
