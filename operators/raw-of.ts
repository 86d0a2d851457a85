/** The original Kafka bytes behind a record, for dead letters; re-encoded as JSON if no longer held. */
import type { PartitionContext, RawRecord, StreamRecord } from '../schemas/stream.js';

export function rawOf(ctx: PartitionContext, record: StreamRecord<unknown>): RawRecord {
  return (
    ctx.raw(record.source) ?? {
      key: record.key === null ? null : Buffer.from(record.key),
      value: Buffer.isBuffer(record.value)
        ? record.value
        : Buffer.from(JSON.stringify(record.value) ?? 'null'),
      headers: record.headers,
      source: record.source,
    }
  );
}
