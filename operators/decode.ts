/**
 * Decodes raw Kafka values into typed records. Anything that cannot become a valid record — empty or
 * oversized payload, bad wire format, unknown schema, undecodable Avro, an event time out of range — goes
 * to the dead-letter topic with its reason, and the partition keeps flowing. Only a registry outage is
 * treated as transient: it is retried, because dead-lettering good data during an outage would lose it.
 */
import pRetry from 'p-retry';
import type { Stage, StreamRecord } from '../schemas/stream.js';
import { rawOf } from './raw-of.js';
import { recordStage } from './record-stage.js';

/** Structural, so any serde fits (the schema-registry serde, JSON, tests). */
export interface RecordDecoder<T> {
  deserialize(payload: Buffer): T | Promise<T>;
}

export interface DecodeOptions<T> {
  /** Event time from a field; defaults to the Kafka record timestamp. */
  readonly eventTime?: (value: T) => number;
  /** Payloads above this go to the dead-letter topic (default 1 MiB). */
  readonly maxBytes?: number;
  /** Event times further ahead of the wall clock than this are rejected (default 1 h). */
  readonly maxFutureMs?: number;
  /** Event times older than this are rejected (default 365 days). */
  readonly maxAgeMs?: number;
  /** Reject records without a Kafka key. */
  readonly requireKey?: boolean;
  readonly now?: () => number;
}

interface CodedError {
  readonly code?: string;
  readonly transient?: boolean;
  readonly message: string;
}

const isTransient = (err: unknown) =>
  typeof err === 'object' &&
  err !== null &&
  ((err as CodedError).transient === true || (err as CodedError).code === 'REGISTRY_UNAVAILABLE');

export function decode<T>(
  decoder: RecordDecoder<T>,
  options: DecodeOptions<T> = {},
): Stage<Buffer | null, T> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const maxFutureMs = options.maxFutureMs ?? 3_600_000;
  const maxAgeMs = options.maxAgeMs ?? 365 * 86_400_000;
  const now = options.now ?? Date.now;

  return recordStage<Buffer | null, T>((ctx) => {
    const reject = (record: StreamRecord<Buffer | null>, code: string, message: string) => {
      ctx.side.deadLetter(rawOf(ctx, record), { code, message });
      return null;
    };
    const finish = (record: StreamRecord<Buffer | null>, value: T): StreamRecord<T> | null => {
      let eventTime = record.eventTime;
      if (options.eventTime) {
        try {
          eventTime = options.eventTime(value);
        } catch (err) {
          return reject(
            record,
            'EVENT_TIME_ERROR',
            `event time could not be read: ${(err as Error).message}`,
          );
        }
      }
      if (!Number.isFinite(eventTime)) {
        return reject(record, 'EVENT_TIME_INVALID', `event time ${String(eventTime)} is not a number`);
      }
      const t = now();
      if (eventTime > t + maxFutureMs) {
        return reject(
          record,
          'EVENT_TIME_FUTURE',
          `event time ${new Date(eventTime).toISOString()} is more than ${maxFutureMs} ms ahead of now`,
        );
      }
      if (eventTime < t - maxAgeMs) {
        return reject(
          record,
          'EVENT_TIME_PAST',
          `event time ${eventTime} is more than ${maxAgeMs} ms in the past`,
        );
      }
      // Spelled out rather than spread: one object of a fixed shape, once per record.
      return {
        kind: 'record',
        value,
        key: record.key,
        eventTime,
        source: record.source,
        headers: record.headers,
      };
    };
    const fail = (record: StreamRecord<Buffer | null>, err: unknown) => {
      const e = err as CodedError;
      return reject(record, e?.code ?? 'DECODE_ERROR', e?.message ?? String(err));
    };

    return (record) => {
      const payload = record.value;
      if (payload === null || payload.length === 0)
        return reject(record, 'EMPTY_PAYLOAD', 'record has no value');
      if (payload.length > maxBytes) {
        return reject(
          record,
          'RECORD_TOO_LARGE',
          `value is ${payload.length} bytes; the limit is ${maxBytes}`,
        );
      }
      if (options.requireKey && record.key === null) return reject(record, 'NULL_KEY', 'record has no key');
      let decoded: T | Promise<T>;
      try {
        decoded = decoder.deserialize(payload);
      } catch (err) {
        if (!isTransient(err)) return fail(record, err);
        decoded = Promise.reject(err);
      }
      if (!(decoded instanceof Promise)) return finish(record, decoded);
      return decoded.then(
        (value) => finish(record, value),
        (err: unknown) =>
          isTransient(err)
            ? pRetry(() => decoder.deserialize(payload), {
                retries: Number.POSITIVE_INFINITY,
                maxTimeout: 5000,
                shouldRetry: ({ error }) => isTransient(error),
              }).then(
                (value) => finish(record, value),
                (e: unknown) => fail(record, e),
              )
            : fail(record, err),
      );
    };
  });
}
