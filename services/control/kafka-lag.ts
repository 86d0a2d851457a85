/**
 * Consumer-group lag per partition from Kafka itself: the group's committed offsets (admin.fetchOffsets)
 * against each partition's high watermark (admin.fetchTopicOffsets). This is what any Kafka tool reports,
 * so it is right even when the topology runs in other processes.
 */
import type { Admin } from 'kafkajs';
import type { LagReader, PartitionLag } from './sources.js';

export function kafkaLagReader(admin: Admin): LagReader {
  return {
    async lag(groupId, topics) {
      // kafkajs retries metadata for a missing topic for half a minute; the status page polls every 2 s.
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length > 0) throw new Error(`topic ${missing.join(', ')} does not exist`);
      const [committed, ...ends] = await Promise.all([
        admin.fetchOffsets({ groupId, topics: [...topics] }),
        ...topics.map((topic) => admin.fetchTopicOffsets(topic)),
      ]);
      const result: PartitionLag[] = [];
      topics.forEach((topic, i) => {
        const groupOffsets = new Map(
          (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]),
        );
        for (const { partition, high, low } of ends[i] ?? []) {
          const offset = groupOffsets.get(partition);
          // -1: the group never committed here; everything still retained is unconsumed.
          const hasCommit = offset !== undefined && BigInt(offset) >= 0n;
          const from = hasCommit ? BigInt(offset) : BigInt(low);
          const lag = BigInt(high) - from;
          result.push({
            topic,
            partition,
            committed: hasCommit ? offset : null,
            end: high,
            lag: Number(lag > 0n ? lag : 0n),
          });
        }
      });
      return result.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    },
  };
}
