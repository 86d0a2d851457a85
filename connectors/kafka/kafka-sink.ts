/** Writes records to a Kafka topic through the worker's shared idempotent producer. */
import type { Message } from 'kafkajs';
import type { StreamRecord } from '../../schemas/stream.js';
import type { Sink } from '../sink.js';

export interface KafkaSinkOptions<T> {
  readonly topic: string;
  readonly numPartitions?: number;
  /** Encodes one record; may be async (schema registry). */
  readonly serialize: (record: StreamRecord<T>) => Buffer | Promise<Buffer>;
  /** Defaults to the record key, so downstream consumers stay co-partitioned by key. */
  readonly key?: (record: StreamRecord<T>) => string | null;
}

export function kafkaSink<T>(options: KafkaSinkOptions<T>): Sink<T> {
  return {
    name: `kafka:${options.topic}`,
    topics: [{ topic: options.topic, numPartitions: options.numPartitions }],
    async open(env) {
      return {
        async write(records) {
          const messages: Message[] = await Promise.all(
            records.map(async (r) => ({
              key: options.key ? options.key(r) : r.key,
              value: await options.serialize(r),
              timestamp: String(r.eventTime),
            })),
          );
          // One request per ~512 KiB keeps each produce request under the broker's default 1 MiB limit.
          for (const chunk of chunksBySize(messages, 512 * 1024)) {
            await env.producer.send({ topic: options.topic, acks: -1, messages: chunk });
          }
        },
        async close() {},
      };
    },
  };
}

function* chunksBySize(messages: Message[], maxBytes: number): Generator<Message[]> {
  let chunk: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size =
      (m.value?.length ?? 0) + (typeof m.key === 'string' ? m.key.length : (m.key?.length ?? 0)) + 64;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** JSON encoding for internal topics where a schema is not (yet) registered. */
export const jsonValue = <T>(record: StreamRecord<T>): Buffer => Buffer.from(JSON.stringify(record.value));
