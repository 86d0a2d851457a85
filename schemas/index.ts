/**
 * Typed schema descriptors for the reference deployment. A stage typed by a descriptor gets the record type
 * from the Avro schema, so reading a field the schema lacks fails to compile:
 *
 *   kafkaSource(TxnEvent, { topic: 'txn.events', eventTime: (e) => e.ts })   // e: TxnEventRecord
 */
import type { SchemaDescriptor } from './types.generated.js';

export * from './types.generated.js';

/** The record type a descriptor carries: `RecordOf<typeof TxnEvent>` is `TxnEventRecord`. */
export type RecordOf<D> = D extends SchemaDescriptor<infer T> ? T : never;

/** Confluent TopicNameStrategy: the subject of a topic's values. */
export const valueSubject = (topic: string): string => `${topic}-value`;
