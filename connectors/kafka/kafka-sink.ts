/** Writes records to a Kafka topic through the worker's shared idempotent producer. */
import kafkajs, { type Message } from 'kafkajs';
import type { StreamRecord } from '../../schemas/stream.js';
import { chunksBySize } from './chunks.js';
import type { Sink } from '../sink.js';

export interface KafkaSinkOptions<T> {
  readonly topic: string;
  readonly numPartitions?: number;
  /** Encodes one record; may be async (schema registry). */
  readonly serialize: (record: StreamRecord<T>) => Buffer | Promise<Buffer>;
  /** Defaults to the record key, so downstream consumers stay co-partitioned by key. */
  readonly key?: (record: StreamRecord<T>) => string | null;
  /** Compresses each produced batch (default none). lz4 costs the least CPU, zstd makes the smallest topics. */
  readonly compression?: SinkCompression;
  /**
   * The Kafka timestamp of each record: its event time (default, as Kafka Streams does), or the time it is
   * written. Time-based retention deletes a segment once its newest timestamp is older than retention.ms,
   * so a backfill of old events stamped with event time can lose its output as soon as a segment rolls.
   */
  readonly timestamp?: 'event-time' | 'write-time';
}

export type SinkCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

const { CompressionTypes } = kafkajs;
const COMPRESSION_TYPES: Record<SinkCompression, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export function kafkaSink<T>(options: KafkaSinkOptions<T>): Sink<T> {
  const compression = COMPRESSION_TYPES[options.compression ?? 'none'];
  if (compression === undefined) {
    throw new Error(
      `kafkaSink(${options.topic}): compression '${String(options.compression)}' is not one of ${Object.keys(COMPRESSION_TYPES).join(', ')}`,
    );
  }
  const eventTime = (options.timestamp ?? 'event-time') === 'event-time';
  if (options.timestamp !== undefined && !['event-time', 'write-time'].includes(options.timestamp)) {
    throw new Error(
      `kafkaSink(${options.topic}): timestamp '${String(options.timestamp)}' is not one of event-time, write-time`,
    );
  }
  return {
    name: `kafka:${options.topic}`,
    topics: [{ topic: options.topic, numPartitions: options.numPartitions }],
    async open(env) {
      return {
        async write(records) {
          const messages: Message[] = [];
          // Synchronous serializers (JSON; Avro once its schema id is known) stay off the promise path: a
          // promise per record is pure overhead.
          let pending: Promise<void>[] | undefined;
          for (const r of records) {
            const value = options.serialize(r);
            const message: Message = {
              key: options.key ? options.key(r) : r.key,
              value: value instanceof Promise ? null : value,
              // Without a timestamp kafkajs stamps the write time.
              timestamp: eventTime ? String(r.eventTime) : undefined,
            };
            messages.push(message);
            if (value instanceof Promise) (pending ??= []).push(value.then((v) => void (message.value = v)));
          }
          if (pending) await Promise.all(pending);
          // One request per ~512 KiB keeps each produce request under the broker's default 1 MiB limit.
          for (const chunk of chunksBySize(messages, 512 * 1024)) {
            await env.producer.send({ topic: options.topic, acks: -1, compression, messages: chunk });
          }
        },
        async close() {},
      };
    },
  };
}

/** JSON encoding for internal topics where a schema is not (yet) registered. */
export const jsonValue = <T>(record: StreamRecord<T>): Buffer => Buffer.from(JSON.stringify(record.value));
