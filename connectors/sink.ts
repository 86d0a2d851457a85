/**
 * The contract every sink implements. A sink only writes batches; the runtime does the rest (batching,
 * retries with backoff, forwarding checkpoint barriers once a write is acknowledged). A resolved write()
 * is the durable acknowledgement that lets offsets be committed, so it must not resolve earlier.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { StreamRecord } from '../schemas/stream.js';
import type { Endpoints } from './config/endpoints.js';

export interface SinkEnvironment {
  readonly topology: string;
  readonly kafka: Kafka;
  /** A shared idempotent producer (acks=all). */
  readonly producer: Producer;
  readonly endpoints: Endpoints;
  readonly logger: Logger;
}

export interface SinkWriter<T> {
  /** Must be idempotent: after a crash the same records may be written again. */
  write(records: readonly StreamRecord<T>[]): Promise<void>;
  close(): Promise<void>;
}

export interface Sink<T> {
  readonly name: string;
  /** Kafka topics this sink writes, so the runtime can create them up front. */
  readonly topics?: readonly { topic: string; numPartitions?: number; compacted?: boolean }[];
  open(env: SinkEnvironment): Promise<SinkWriter<T>>;
}
