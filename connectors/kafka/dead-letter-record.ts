/**
 * Reading a dead letter back: the inverse of deadLetterMessage. It splits what Sluice added (why, and where
 * the record came from) from the original record, and says whether that record survived whole, so a
 * replay never republishes a cut value or a batch's compressed bytes as if they were an event.
 */
import type { KafkaMessage, Message } from 'kafkajs';
import type { DeadLetterReason, SourcePosition } from '../../schemas/stream.js';
import { UNDECOMPRESSABLE_BATCH } from './compression/undecompressable.js';
import { CUT_NOTE_HEADERS, isDeadLetterHeader } from './dead-letter.js';
import { stringHeaders } from './headers.js';

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  readonly topology: string;
  /** Where the original record was read. */
  readonly source: SourcePosition;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The original record's headers (Sluice's own removed). */
  readonly headers: Record<string, string>;
  /** Why the original cannot be replayed from this letter, if it cannot. */
  readonly notReplayable?: string;
}

/** Why a letter cut to fit, by the note it carries, cannot give back its record. */
const CUT_REASONS: ReadonlyArray<readonly [string, string]> = [
  [CUT_NOTE_HEADERS.valueTruncated, 'its value was cut to fit the dead-letter topic'],
  [CUT_NOTE_HEADERS.keyTruncated, 'its key was cut to fit the dead-letter topic'],
  [CUT_NOTE_HEADERS.headersDropped, 'its headers were dropped to fit the dead-letter topic'],
];

export const REPLAY_OF_HEADER = 'sluice.replay.of';
/** The replayed record's original Kafka timestamp. */
export const REPLAY_TIMESTAMP_HEADER = 'sluice.replay.timestamp';

/** The dead letter in `message`, or why `message` is not one of Sluice's. */
export function parseDeadLetter(message: KafkaMessage): DeadLetter | Error {
  const all = stringHeaders(message.headers);
  const code = all['sluice.error.code'];
  const topic = all['sluice.source.topic'];
  const partition = Number(all['sluice.source.partition']);
  const offset = all['sluice.source.offset'];
  if (code === undefined || topic === undefined || !Number.isInteger(partition) || offset === undefined) {
    return new Error(
      `offset ${message.offset} is not a Sluice dead letter (no sluice.error.* / sluice.source.* headers)`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    // Defined, not assigned: a header named __proto__ stays a header.
    if (!isDeadLetterHeader(name))
      Object.defineProperty(headers, name, { value, enumerable: true, writable: true });
  }
  const cut = CUT_REASONS.find(([note]) => all[note] !== undefined);
  const notReplayable =
    code === UNDECOMPRESSABLE_BATCH ? 'it holds a whole compressed batch, not one record' : cut?.[1];
  return {
    reason: { code, message: all['sluice.error.message'] ?? '' },
    topology: all['sluice.topology'] ?? '',
    source: { topic, partition, offset, timestamp: Number(all['sluice.source.timestamp']) },
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
    ...(notReplayable === undefined ? {} : { notReplayable }),
  };
}

/**
 * The original record again, marked with where its dead letter sits. Into its own topic it goes back to
 * its own partition (whatever partitioner first placed it); into another topic it is placed by key. It
 * gets a new Kafka timestamp, its original going into a header: a topic's time-based retention deletes a
 * segment once its newest timestamp is older than retention.ms, so records replayed with old timestamps
 * could vanish as soon as their segment rolled.
 */
export function replayMessage(letter: DeadLetter, letterPosition: string, toTopic: string): Message {
  const headers: Record<string, string> = { ...letter.headers };
  headers[REPLAY_OF_HEADER] = letterPosition;
  if (Number.isFinite(letter.source.timestamp))
    headers[REPLAY_TIMESTAMP_HEADER] = String(letter.source.timestamp);
  return {
    key: letter.key,
    value: letter.value,
    headers,
    ...(toTopic === letter.source.topic ? { partition: letter.source.partition } : {}),
  };
}
