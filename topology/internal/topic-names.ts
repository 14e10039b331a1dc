/**
 * Physical names of the topics an application owns. Both derive from stable
 * node and store names, never from positions in the topology.
 */

/** `<applicationId>-<logical>`, e.g. `tally-dedupe-repartition`. */
export function internalTopicName(applicationId: string, logicalTopic: string): string {
  return `${applicationId}-${logicalTopic}`;
}

/** `<applicationId>-<store>-changelog`, e.g. `tally-meters-changelog`. */
export function changelogTopicName(applicationId: string, storeName: string): string {
  return `${applicationId}-${storeName}-changelog`;
}
