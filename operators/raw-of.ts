/** The original Kafka bytes behind a record, for dead letters; re-encoded as JSON if no longer held. */
import type { PartitionContext, RawRecord, StreamRecord } from '../schemas/stream.js';

export function rawOf(ctx: PartitionContext, record: StreamRecord<unknown>): RawRecord {
  return ctx.raw(record.source) ?? reconstructRaw(record);
}

/** What a record carries when its raw Kafka record is gone: bytes as they are, anything else as JSON. */
export function reconstructRaw(record: StreamRecord<unknown>): RawRecord {
  return {
    key: record.key === null ? null : Buffer.from(record.key),
    value: encodeValue(record.value),
    headers: record.headers,
    source: record.source,
  };
}

function encodeValue(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? null : Buffer.from(json);
  } catch {
    // e.g. a BigInt or a cycle: keep something readable rather than lose the record.
    return Buffer.from(String(value));
  }
}
