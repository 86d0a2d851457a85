/**
 * Reads chosen partitions of a topic from the beginning up to their end offsets, then stops.
 *
 * kafkajs has no manual assign(), so a throwaway consumer group reads the whole topic and hands over only
 * the partitions asked for. With read_committed (the default) a transaction left open by a killed producer
 * holds the end back until the broker aborts it, which is what a state restore needs.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReadToEndOptions {
  /** Partitions to read; all of the topic's when omitted. */
  readonly partitions?: readonly number[];
  readonly readUncommitted?: boolean;
  readonly timeoutMs?: number;
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
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `reading ${topic} partitions ${[...pending].join(',')} did not reach the end within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        reject(payload.error);
      });
      // Fires for every fetched batch, also for ones holding only control records (commit/abort markers).
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic === topic && BigInt(payload.offsetLag) <= 0n) pending.delete(payload.partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              if (wanted && !wanted.has(batch.partition)) return;
              for (const message of batch.messages) onMessage(batch.partition, message);
            },
          }),
        )
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
}
