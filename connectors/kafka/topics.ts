/** Creates the topics a topology needs, idempotently, and checks the ones it cannot create. */
import type { Admin, ITopicConfig } from 'kafkajs';

export interface TopicSpec {
  readonly topic: string;
  readonly numPartitions: number;
  readonly compacted?: boolean;
  readonly config?: Readonly<Record<string, string>>;
}

export class TopicConfigError extends Error {
  override readonly name = 'TopicConfigError';
}

export async function partitionCount(admin: Admin, topic: string): Promise<number | undefined> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) return undefined;
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return meta.topics[0]?.partitions.length;
}

export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = specs
    .filter((s) => !existing.has(s.topic))
    .map((s) => ({
      topic: s.topic,
      numPartitions: s.numPartitions,
      replicationFactor: -1,
      configEntries: Object.entries({
        ...(s.compacted ? { 'cleanup.policy': 'compact' } : {}),
        ...s.config,
      }).map(([name, value]) => ({ name, value })),
    }));
  if (missing.length > 0) {
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
    } catch (err) {
      // Another worker may have created it first; that is fine as long as it exists now.
      if (!(err instanceof Error && /already exists/i.test(err.message))) throw err;
    }
  }
  for (const spec of specs.filter((s) => s.compacted)) {
    const count = await partitionCount(admin, spec.topic);
    if (count !== spec.numPartitions) {
      throw new TopicConfigError(
        `${spec.topic} has ${count} partitions but its source has ${spec.numPartitions}; ` +
          `state is co-partitioned with the source, so delete ${spec.topic} (state is rebuilt from the source) ` +
          `or restore the source partition count.`,
      );
    }
  }
}
