/** Test helpers that talk to the real broker of the local stack. */
import { randomUUID } from 'node:crypto';
import type {
  Admin,
  Consumer,
  ConsumerConfig,
  IHeaders,
  Kafka,
  KafkaMessage,
  Message,
  Producer,
  ProducerConfig,
} from 'kafkajs';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka } from '../../connectors/kafka/client.js';
import { coPartitionedTopics } from '../../connectors/kafka/co-partitioned.js';
import { readToEnd } from '../../connectors/kafka/read-to-end.js';

export const endpoints = loadEndpoints();
export const testKafka = (): Kafka => createKafka(endpoints.kafkaBrokers, `sluice-test-${process.pid}`);

export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function createTopic(kafka: Kafka, topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

export async function produce(kafka: Kafka, topic: string, messages: Message[], chunk = 2000): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) });
    }
  } finally {
    await producer.disconnect();
  }
}

export type ReadMessage = KafkaMessage & { readonly partition: number };

/** Reads a whole topic from the beginning until every partition is at its end offset. */
export async function readAll(kafka: Kafka, topic: string, options: { readUncommitted?: boolean } = {}) {
  const out: ReadMessage[] = [];
  await readToEnd(kafka, topic, (partition, m) => out.push({ ...m, partition }), {
    readUncommitted: options.readUncommitted ?? false,
    timeoutMs: 60_000,
    groupPrefix: 'sluice-test-reader',
  });
  return out;
}

export const headerText = (headers: IHeaders | undefined, name: string): string | undefined => {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? String(v[0]) : String(v);
};

/** Runs `work` with a connected admin client, disconnected afterwards whatever happens. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A group's committed offset per partition of `topic` ('-1' where it has none). */
export async function groupOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, string>> {
  const [offsets] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

/** Records of `topic` the group has committed, summed over its partitions. */
export async function committedTotal(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const offsets = [...(await groupOffsets(kafka, groupId, topic)).values()];
  return offsets.reduce((a, o) => a + (o === '-1' ? 0 : Number(o)), 0);
}

/** Deletes the topics of a test that exist (deleting a missing topic makes kafkajs retry for a minute). */
export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** A topology's own topics: its changelog, dead letters and late events. */
export const topologyTopics = (name: string) => [...coPartitionedTopics(name)];

/**
 * Waits until a consumer group's committed offset equals the end offset of every partition of a topic:
 * everything produced so far was processed and committed. Fails naming the offsets it saw.
 */
export async function waitForCommittedEnd(
  kafka: Kafka,
  groupId: string,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
      if (ends.every((e) => at.get(e.partition) === e.high)) return;
      if (Date.now() > deadline) {
        const seen = ends.map((e) => `${e.partition}:${at.get(e.partition) ?? '-'}/${e.high}`).join(' ');
        throw new Error(`group ${groupId} did not commit to the end of ${topic} in time (${seen})`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/** What a watched Kafka reports: each producer and consumer it hands out, with the config it was made with. */
export interface ClientWatch {
  readonly producer?: (producer: Producer, config: ProducerConfig | undefined) => void;
  readonly consumer?: (consumer: Consumer, config: ConsumerConfig) => void;
  /** Changes the config consumers are created with (e.g. a shorter metadata refresh, fewer retries). */
  readonly consumerConfig?: (config: ConsumerConfig) => ConsumerConfig;
}

/**
 * `kafka` as code under test receives it, telling `watch` about every client it creates, so a test (or
 * the bench) can listen to their instrumentation events from the start.
 */
export function watchedKafka(kafka: Kafka, watch: ClientWatch): Kafka {
  return new Proxy(kafka, {
    get(target, prop, receiver) {
      if (prop === 'producer' && watch.producer) {
        return (config?: ProducerConfig) => {
          const producer = target.producer(config);
          watch.producer?.(producer, config);
          return producer;
        };
      }
      if (prop === 'consumer' && (watch.consumer || watch.consumerConfig)) {
        return (requested: ConsumerConfig) => {
          const config = watch.consumerConfig?.(requested) ?? requested;
          const consumer = target.consumer(config);
          watch.consumer?.(consumer, config);
          return consumer;
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
