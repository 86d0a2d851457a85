/**
 * Restores the committed contents of chosen partitions of a compacted changelog topic: the latest value
 * per key, read to the end with read_committed (see read-to-end.ts), so a killed worker's open
 * transaction is never restored.
 */
import type { Kafka } from 'kafkajs';
import pRetry from 'p-retry';
import { readToEnd, type ReadToEndOptions } from './read-to-end.js';

/** partition -> key -> latest value (tombstones removed). */
export type RestoredPartitions = Map<number, Map<string, string>>;

export interface RestoreOptions {
  /** Fails a restore that fetched nothing for this long (see readToEnd). */
  readonly timeoutMs?: number;
  /** Changelog records read so far and the partitions not restored yet, after each fetched batch. */
  readonly onProgress?: ReadToEndOptions['onProgress'];
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
  await readToEnd(
    kafka,
    topic,
    (partition, message) => {
      const store = result.get(partition);
      const key = message.key?.toString('utf8');
      if (!store || key === undefined) return;
      if (message.value === null) store.delete(key);
      else store.set(key, message.value.toString('utf8'));
    },
    {
      partitions,
      groupPrefix: 'sluice-restore',
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
  return result;
}
