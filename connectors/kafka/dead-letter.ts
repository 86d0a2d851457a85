/**
 * Dead-letter writer: the original bytes go to `<topology>.dlq` unchanged, with headers saying why and
 * where they came from, so an operator can inspect, fix and replay them.
 */
import type { Message, Producer } from 'kafkajs';
import { Counter } from 'prom-client';
import { sharedMetric } from '../metrics.js';
import type { DeadLetterReason, RawRecord } from '../../schemas/stream.js';

export const deadLetterTopic = (topology: string): string => `${topology}.dlq`;
export const lateTopic = (topology: string): string => `${topology}.late`;

const deadLetters = sharedMetric(
  'sluice_dead_letters_total',
  () =>
    new Counter({
      name: 'sluice_dead_letters_total',
      help: 'Records sent to a dead-letter or late topic, by reason code',
      labelNames: ['topology', 'code'],
    }),
);

export interface DeadLetterHeaders {
  readonly 'sluice.error.code': string;
  readonly 'sluice.error.message': string;
  readonly 'sluice.source.topic': string;
  readonly 'sluice.source.partition': string;
  readonly 'sluice.source.offset': string;
  readonly 'sluice.source.timestamp': string;
  readonly 'sluice.topology': string;
}

/** Every header deadLetterHeaders adds (typed against it, so a new one cannot be left out here). */
const REASON_HEADER_NAMES: Readonly<Record<keyof DeadLetterHeaders, true>> = {
  'sluice.error.code': true,
  'sluice.error.message': true,
  'sluice.source.topic': true,
  'sluice.source.partition': true,
  'sluice.source.offset': true,
  'sluice.source.timestamp': true,
  'sluice.topology': true,
};

/** The notes a dead letter cut to fit carries: what was left out of it. */
export const CUT_NOTE_HEADERS = {
  headersDropped: 'sluice.error.headers-dropped',
  keyTruncated: 'sluice.error.key-truncated',
  valueTruncated: 'sluice.error.truncated',
} as const;

/** Whether a dead letter's header was added by Sluice (a reason, the source position, a cut note). */
export const isDeadLetterHeader = (name: string): boolean =>
  Object.hasOwn(REASON_HEADER_NAMES, name) || Object.values(CUT_NOTE_HEADERS).some((n) => n === name);

export function deadLetterHeaders(
  topology: string,
  raw: RawRecord,
  reason: DeadLetterReason,
): DeadLetterHeaders {
  return {
    'sluice.error.code': reason.code,
    // Header values must stay small: a decode error may quote a large payload.
    'sluice.error.message': reason.message.slice(0, 2000),
    'sluice.source.topic': raw.source.topic,
    'sluice.source.partition': String(raw.source.partition),
    'sluice.source.offset': raw.source.offset,
    'sluice.source.timestamp': String(raw.source.timestamp),
    'sluice.topology': topology,
  };
}

/**
 * The broker refuses a record batch above message.max.bytes (1,048,588 by default) for good. A dead
 * letter that did not fit would fail its checkpoint, and the replay would meet the same record again: a
 * crash loop. So a dead letter stays below this, its record framing included.
 */
export const MAX_DEAD_LETTER_BYTES = 1_000_000;

/** Kafka record framing: per header, two length varints; per record, its length, deltas and counts. */
const HEADER_FRAMING = 10;
const RECORD_FRAMING = 100;
/** Kept free for the notes a cut dead letter carries (headers-dropped, key-truncated, truncated). */
const NOTES_ROOM = 3 * (40 + HEADER_FRAMING);

const headerBytes = (headers: Readonly<Record<string, string>> | DeadLetterHeaders): number => {
  let bytes = 0;
  for (const [k, v] of Object.entries(headers as Record<string, string>))
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v) + HEADER_FRAMING;
  return bytes;
};

/**
 * The dead letter of `raw`: its key, value and headers unchanged when they fit in `maxBytes` with the
 * reason headers. Otherwise the original headers go first (their count and size are noted), then the
 * key and the value are cut to what is left (their original lengths are noted): the reason and the
 * source position, which say where the whole record is, always survive.
 */
export function deadLetterMessage(
  topology: string,
  raw: RawRecord,
  reason: DeadLetterReason,
  maxBytes = MAX_DEAD_LETTER_BYTES,
): Message & { headers: Record<string, string> } {
  const reasonHeaders = deadLetterHeaders(topology, raw, reason);
  let key = raw.key;
  let value = raw.value;
  const originalHeaders = headerBytes(raw.headers);
  const body = (key?.length ?? 0) + (value?.length ?? 0);
  // NOTES_ROOM held back too, so adding the notes below cannot tip the record over.
  let room = maxBytes - RECORD_FRAMING - headerBytes(reasonHeaders) - NOTES_ROOM;
  if (originalHeaders + body <= room) {
    // Spread, not assigned: a header named __proto__ stays a header. The reason headers win.
    return { key, value, headers: { ...raw.headers, ...reasonHeaders }, partition: raw.source.partition };
  }
  const headers: Record<string, string> = { ...reasonHeaders };
  const dropped = Object.keys(raw.headers).length;
  if (dropped > 0) headers[CUT_NOTE_HEADERS.headersDropped] = `${dropped} headers, ${originalHeaders} bytes`;
  if (key && key.length > room) {
    headers[CUT_NOTE_HEADERS.keyTruncated] = String(key.length);
    key = key.subarray(0, Math.max(0, room));
  }
  room -= key?.length ?? 0;
  if (value && value.length > room) {
    headers[CUT_NOTE_HEADERS.valueTruncated] = String(value.length);
    value = value.subarray(0, Math.max(0, room));
  }
  return { key, value, headers, partition: raw.source.partition };
}

export interface DeadLetterWriteOptions {
  readonly maxBytes?: number;
  /**
   * 'source' (the default) writes to the source partition's number: a topology's dead-letter topic is
   * co-partitioned with its source (see co-partitioned.ts). 'by-key' lets the producer's partitioner
   * choose, for a service whose dead-letter topic needs no such alignment: a source that gains partitions
   * can then never make its dead letters unwritable. The source partition is in the headers either way.
   */
  readonly partition?: 'source' | 'by-key';
}

export async function writeDeadLetter(
  producer: Producer,
  topic: string,
  topology: string,
  raw: RawRecord,
  reason: DeadLetterReason,
  options: DeadLetterWriteOptions = {},
): Promise<void> {
  const message = deadLetterMessage(topology, raw, reason, options.maxBytes ?? MAX_DEAD_LETTER_BYTES);
  if (options.partition === 'by-key') delete message.partition;
  await producer.send({ topic, acks: -1, messages: [message] });
  deadLetters.inc({ topology, code: reason.code });
}
