/**
 * Reads chosen partitions of a topic from the beginning up to their end offsets, then stops.
 *
 * kafkajs has no manual assign(), so a throwaway consumer group is assigned the whole topic and pauses the
 * partitions not asked for at once: a restore reads only the state it needs, however many workers share
 * the topic. With read_committed (the default) a transaction left open by a killed producer holds the end
 * back until the broker aborts it, which is what a state restore needs.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { consumeUntilDone } from './consume-until-done.js';

export interface ReadToEndOptions {
  /** Partitions to read; all of the topic's when omitted. */
  readonly partitions?: readonly number[];
  readonly readUncommitted?: boolean;
  /**
   * Fails the read when this long passes without a fetched batch (default 120 s). It restarts with every
   * batch, so a large read that keeps moving is never cut short.
   */
  readonly timeoutMs?: number;
  /** Called after each batch of a wanted partition: messages handed over so far, partitions not at their end. */
  readonly onProgress?: (progress: {
    readonly messages: number;
    readonly pending: readonly number[];
  }) => void;
  /** Prefix of the throwaway consumer group (it shows up in the broker's group list). */
  readonly groupPrefix?: string;
}

export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (partition: number, message: KafkaMessage) => void,
  options: ReadToEndOptions = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const wanted = options.partitions ? new Set(options.partitions) : undefined;
  const pending = new Set(
    ends
      .filter((e) => (wanted ? wanted.has(e.partition) : true) && BigInt(e.high) > BigInt(e.low))
      .map((e) => e.partition),
  );
  if (pending.size === 0) return;

  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix ?? 'sluice-read'}-${randomUUID()}`,
    readUncommitted: options.readUncommitted ?? false,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 200,
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  await consumer.connect();
  try {
    let messages = 0;
    await consumeUntilDone(consumer, {
      topic,
      pending,
      finished: (batch) => BigInt(batch.offsetLag) <= 0n,
      stallMs: timeoutMs,
      stalled: () =>
        `reading ${topic} partitions ${[...pending].join(',')} made no progress for ${timeoutMs} ms ` +
        `(${messages} messages read)`,
      onGroupJoin: (assigned) => {
        const unwanted = wanted ? assigned.filter((p) => !wanted.has(p)) : [];
        if (unwanted.length > 0) consumer.pause([{ topic, partitions: unwanted }]);
      },
      onBatchEnd: (batch) => {
        if (!wanted || wanted.has(batch.partition)) options.onProgress?.({ messages, pending: [...pending] });
      },
      eachBatch: async ({ batch }) => {
        if (wanted && !wanted.has(batch.partition)) return;
        for (const message of batch.messages) onMessage(batch.partition, message);
        messages += batch.messages.length;
      },
    });
  } finally {
    await consumer.disconnect();
  }
}
