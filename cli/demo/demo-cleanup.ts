/**
 * On a cluster the demo did not start, it leaves nothing behind: its nine
 * topics, the pipeline's internal topics (repartition, changelogs: all
 * prefixed with the run's app id) and its consumer groups are deleted.
 */
import type { TallyConfig } from '../../schemas/config-types.js';
import { kafkaClient } from '../../service/index.js';

/** Deletes what one demo run created; returns what it could not delete, in words (empty when all went). */
export async function deleteDemoFootprint(config: TallyConfig, groupIds: readonly string[]): Promise<string[]> {
  const admin = kafkaClient(config, `${config.app.id}-cleanup`).admin();
  const problems: string[] = [];
  try {
    await admin.connect();
    const own = new Set(Object.values(config.topics));
    const topics = (await admin.listTopics()).filter((t) => own.has(t) || t.startsWith(`${config.app.id}-`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
    await admin.deleteGroups([...groupIds]).catch((e: unknown) => problems.push(`consumer groups ${groupIds.join(', ')}: ${(e as Error).message}`));
  } catch (e) {
    problems.push(`topics of ${config.app.id}: ${(e as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return problems;
}
