/**
 * Dead-letter writer: the original bytes go to `<topology>.dlq` unchanged, with headers saying why and
 * where they came from, so an operator can inspect, fix and replay them.
 */
import type { Producer } from 'kafkajs';
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

export async function writeDeadLetter(
  producer: Producer,
  topic: string,
  topology: string,
  raw: RawRecord,
  reason: DeadLetterReason,
  maxValueBytes = 900_000,
): Promise<void> {
  // An oversized poison record must still land: keep its head and say it was cut.
  const value =
    raw.value && raw.value.length > maxValueBytes ? raw.value.subarray(0, maxValueBytes) : raw.value;
  const headers: Record<string, string> = { ...raw.headers, ...deadLetterHeaders(topology, raw, reason) };
  if (value !== raw.value) headers['sluice.error.truncated'] = String(raw.value?.length ?? 0);
  await producer.send({
    topic,
    acks: -1,
    messages: [{ key: raw.key, value, headers, partition: raw.source.partition }],
  });
  deadLetters.inc({ topology, code: reason.code });
}
