/** Creates the topics a topology needs, idempotently, and checks the ones it cannot create. */
import type { Admin, ITopicConfig } from 'kafkajs';
import pRetry from 'p-retry';

export interface TopicSpec {
  readonly topic: string;
  readonly numPartitions: number;
  readonly compacted?: boolean;
  readonly config?: Readonly<Record<string, string>>;
}

export class TopicConfigError extends Error {
  override readonly name = 'TopicConfigError';
}

class MetadataPending extends Error {}

/** Retries while the broker's metadata has not caught up with a topic that exists. */
const untilInMetadata = <T>(read: () => Promise<T>): Promise<T> =>
  pRetry(read, {
    retries: 8,
    minTimeout: 100,
    maxTimeout: 2000,
    shouldRetry: ({ error }) => error instanceof MetadataPending,
  });

async function partitionsInMetadata(admin: Admin, topic: string): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const count = meta.topics[0]?.partitions.length ?? 0;
  if (count === 0) throw new MetadataPending(`${topic} exists but has no partitions in the metadata yet`);
  return count;
}

/**
 * A topic's partition count, or undefined if it does not exist. A topic just created by another client
 * can be listed before its partitions are in the metadata, so a listed topic without partitions is asked
 * about again.
 */
export async function partitionCount(admin: Admin, topic: string): Promise<number | undefined> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) return undefined;
  return untilInMetadata(() => partitionsInMetadata(admin, topic));
}

/**
 * The partition count of a topic known to exist. Replicas of a topology starting together race to create
 * its topics: the losers are told "already exists" by the controller before the broker's metadata lists
 * the topic, so they wait for it instead of reading "no such topic".
 */
async function existingPartitionCount(admin: Admin, topic: string): Promise<number> {
  return untilInMetadata(async () => {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new MetadataPending(`${topic} was created but is not in the metadata yet`);
    }
    return partitionsInMetadata(admin, topic);
  });
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
    const count = await existingPartitionCount(admin, spec.topic);
    if (count !== spec.numPartitions) {
      throw new TopicConfigError(
        `${spec.topic} has ${count} partitions where ${spec.numPartitions} are expected; a compacted topic's ` +
          'records are read per partition, so recreate it with that count or point the reader at another topic.',
      );
    }
  }
}
