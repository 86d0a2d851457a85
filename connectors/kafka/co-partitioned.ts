/**
 * A topology's own topics whose partition p belongs to source partition p: its changelog (the state and
 * position of source partition p), its dead letters and its late events (each keeps its source partition).
 * Adding partitions to the source leaves the new ones without a home in these topics, and Kafka only ever
 * adds partitions, so the check below runs when a worker starts and whenever it is handed a partition it
 * has not seen.
 */
import type { Admin } from 'kafkajs';
import { deadLetterTopic, lateTopic } from './dead-letter.js';
import { partitionCount, TopicConfigError } from './topics.js';

export const changelogTopic = (topology: string): string => `${topology}-changelog`;

export const coPartitionedTopics = (topology: string): readonly string[] => [
  changelogTopic(topology),
  deadLetterTopic(topology),
  lateTopic(topology),
];

export interface TopicGrowth {
  readonly topic: string;
  readonly from: number;
  readonly to: number;
}

/** Each co-partitioned topic's partition count (undefined: not created yet), read once per check. */
async function partitionCounts(admin: Admin, topology: string): Promise<Map<string, number | undefined>> {
  const counts = new Map<string, number | undefined>();
  for (const topic of coPartitionedTopics(topology)) counts.set(topic, await partitionCount(admin, topic));
  return counts;
}

/** The co-partitioned topics that exist with fewer partitions than the source's `sourcePartitions`. */
function shortTopics(
  counts: ReadonlyMap<string, number | undefined>,
  sourcePartitions: number,
): TopicGrowth[] {
  const short: TopicGrowth[] = [];
  for (const [topic, count] of counts) {
    if (count !== undefined && count < sourcePartitions)
      short.push({ topic, from: count, to: sourcePartitions });
  }
  return short;
}

/**
 * Fails with the fix spelled out when the source no longer matches the topology's own topics. Topics not
 * created yet pass (the worker creates them to match).
 */
export async function checkCoPartitioned(
  admin: Admin,
  topology: string,
  sourceTopic: string,
  sourcePartitions: number,
): Promise<void> {
  const counts = await partitionCounts(admin, topology);
  const changelog = changelogTopic(topology);
  const changelogPartitions = counts.get(changelog);
  if (changelogPartitions !== undefined && changelogPartitions > sourcePartitions) {
    // Partitions are never removed, so the source was deleted and created again: the state is another topic's.
    throw new TopicConfigError(
      `${changelog} has ${changelogPartitions} partitions but ${sourceTopic} has ${sourcePartitions}: the source ` +
        `was recreated, and the state belongs to the old topic. Restore the source, or start the topology ` +
        `over: delete ${changelog} and its consumer group (kafka-consumer-groups.sh --delete --group ${topology}).`,
    );
  }
  const short = shortTopics(counts, sourcePartitions);
  if (short.length === 0) return;
  throw new TopicConfigError(
    `${sourceTopic} has ${sourcePartitions} partitions but ${short.map((s) => `${s.topic} has ${s.from}`).join(', ')}: ` +
      `topology ${topology} keeps state, dead letters and late events on their source partition's number, so ` +
      'the source partitions beyond those cannot be processed. Usually partitions were added to the source ' +
      `(or one of these topics was recreated smaller). Run \`sluice topics align ${topology} --source ` +
      `${sourceTopic}\` to add the same partitions to them. If keys moved to the new partitions, they leave ` +
      'their open windows behind: windows open at the change may be emitted in parts.',
  );
}

/** Adds partitions to the co-partitioned topics until they match the source. Returns what grew. */
export async function alignCoPartitioned(
  admin: Admin,
  topology: string,
  sourceTopic: string,
): Promise<TopicGrowth[]> {
  const sourcePartitions = await partitionCount(admin, sourceTopic);
  if (sourcePartitions === undefined) {
    throw new TopicConfigError(`source topic ${sourceTopic} does not exist; check --source`);
  }
  const short = shortTopics(await partitionCounts(admin, topology), sourcePartitions);
  if (short.length > 0) {
    await admin.createPartitions({
      topicPartitions: short.map((s) => ({ topic: s.topic, count: s.to })),
      validateOnly: false,
    });
  }
  return short;
}
