/**
 * Listens to the model lifecycle topic for one scoring worker. Each worker must see every event, so the
 * group id is unique per worker. No event may fall in the gap between "load the registry" and "start
 * listening": the topic's end offsets are read BEFORE the registry is loaded, and the consumer seeks to
 * exactly those offsets, so anything published after the snapshot is delivered (an event seen twice is
 * harmless: handling re-reads the registry and swaps only what changed).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../connectors/kafka/topics.js';
import type { ModelLifecycleEventRecord } from '../../schemas/index.js';
import { MODEL_LIFECYCLE_TOPIC, parseLifecycleEvent } from './lifecycle-publisher.js';

export interface LifecycleListenerOptions {
  readonly topic?: string;
  /** Unique per worker; a random suffix is added so restarts never share committed offsets. */
  readonly groupPrefix: string;
  /** Loads the current registry state; runs after the offset snapshot and before listening. */
  readonly loadState: () => Promise<void>;
  readonly onEvent: (event: ModelLifecycleEventRecord) => Promise<void>;
  readonly onError?: (err: Error) => void;
}

export interface LifecycleListener {
  stop(): Promise<void>;
}

export async function startLifecycleListener(
  kafka: Kafka,
  options: LifecycleListenerOptions,
): Promise<LifecycleListener> {
  const topic = options.topic ?? MODEL_LIFECYCLE_TOPIC;
  const admin = kafka.admin();
  await admin.connect();
  let snapshot: { partition: number; offset: string }[];
  try {
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    snapshot = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  await options.loadState();

  const groupId = `${options.groupPrefix}-${randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 200,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      const event = parseLifecycleEvent(message.value);
      if (!event) {
        options.onError?.(new Error(`unreadable lifecycle event at offset ${message.offset}; skipped`));
        return;
      }
      try {
        await options.onEvent(event);
      } catch (err) {
        options.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    },
  });
  for (const p of snapshot) consumer.seek({ topic, partition: p.partition, offset: p.offset });
  await joined;
  return {
    async stop() {
      await consumer.disconnect().catch(() => undefined);
      // Every worker leaves its own group behind; delete it so they do not pile up in the broker.
      const a = kafka.admin();
      try {
        await a.connect();
        await a.deleteGroups([groupId]);
      } catch {
        // best effort: an empty group expires on its own (offsets.retention.minutes)
      } finally {
        await a.disconnect().catch(() => undefined);
      }
    },
  };
}
