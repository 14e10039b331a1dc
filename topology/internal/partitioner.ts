/**
 * Partition choice that matches what a kafkajs producer with the default
 * (Java-compatible murmur2) partitioner would choose, so the test driver puts
 * a key on the same partition a real producer does.
 */
import kafkajs from 'kafkajs';

const defaultPartitioner = kafkajs.Partitioners.DefaultPartitioner();
const metadataByCount = new Map<number, { partitionId: number; leader: number }[]>();

function metadataFor(partitionCount: number): { partitionId: number; leader: number }[] {
  let metadata = metadataByCount.get(partitionCount);
  if (metadata === undefined) {
    metadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0 }));
    metadataByCount.set(partitionCount, metadata);
  }
  return metadata;
}

/** The partition for a non-null key among `partitionCount` partitions. */
export function partitionForKey(topic: string, key: Buffer, partitionCount: number): number {
  return defaultPartitioner({
    topic,
    partitionMetadata: metadataFor(partitionCount) as never,
    message: { key, value: null },
  });
}
