/**
 * Reads the committed contents of chosen partitions of a compacted changelog topic, to the end.
 *
 * kafkajs has no manual assign(), so a throwaway consumer group reads the whole topic and keeps only the
 * partitions asked for. It reads with isolation read_committed: a transaction left open by a killed
 * worker holds the end back until the broker aborts it (transaction timeout), which is exactly right —
 * its state must not be restored.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import pRetry from 'p-retry';

/** partition -> key -> latest value (tombstones removed). */
export type RestoredPartitions = Map<number, Map<string, string>>;

export interface RestoreOptions {
  readonly timeoutMs?: number;
}

/** Retries a restore that fails for a transient reason (e.g. a leader election right after topic creation). */
export function restoreChangelog(
  kafka: Kafka,
  topic: string,
  partitions: readonly number[],
  options: RestoreOptions = {},
): Promise<RestoredPartitions> {
  return pRetry(() => restoreOnce(kafka, topic, partitions, options), {
    retries: 8,
    minTimeout: 200,
    maxTimeout: 3000,
    shouldRetry: ({ error }) => (error as { retriable?: boolean }).retriable === true,
  });
}

async function restoreOnce(
  kafka: Kafka,
  topic: string,
  partitions: readonly number[],
  options: RestoreOptions,
): Promise<RestoredPartitions> {
  const result: RestoredPartitions = new Map(partitions.map((p) => [p, new Map<string, string>()]));
  if (partitions.length === 0) return result;

  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const pending = new Set(
    partitions.filter((p) => {
      const end = ends.find((e) => e.partition === p);
      return end !== undefined && BigInt(end.high) > BigInt(end.low);
    }),
  );
  if (pending.size === 0) return result;

  const consumer = kafka.consumer({
    groupId: `sluice-restore-${randomUUID()}`,
    readUncommitted: false,
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
              `restoring ${topic} partitions ${[...pending].join(',')} did not reach the end within ${timeoutMs} ms`,
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
              const store = result.get(batch.partition);
              if (!store) return;
              for (const message of batch.messages) {
                const key = message.key?.toString('utf8');
                if (key === undefined) continue;
                if (message.value === null) store.delete(key);
                else store.set(key, message.value.toString('utf8'));
              }
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
  return result;
}
