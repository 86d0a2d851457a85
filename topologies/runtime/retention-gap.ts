/**
 * A partition resumes at the position its state was checkpointed at. If the topology was down (or
 * crash-looping) for longer than the source's retention, the broker has deleted that position: the fetch
 * is out of range, kafkajs resets to the earliest (or latest) offset, the worker's alignment check refuses
 * that batch and seeks back, and the partition loops there for good. The records are gone either way;
 * what is left to do is resume at the log start, and say loudly how many were lost.
 */
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { sharedMetric } from '../../connectors/metrics.js';

const recordsLost = sharedMetric(
  'sluice_source_records_lost_total',
  () =>
    new Counter({
      name: 'sluice_source_records_lost_total',
      help: 'Source records deleted by retention before the topology processed them',
      labelNames: ['topology', 'partition'],
    }),
);

export interface Resumable {
  /** Where the partition can resume: `wanted`, or the log start if retention deleted `wanted`. */
  readonly offset: string;
  /** Offsets between `wanted` and the log start (an upper bound on records: transaction markers count too). */
  readonly lost: bigint;
}

export async function resumableOffset(
  admin: Admin,
  topic: string,
  partition: number,
  wanted: string,
): Promise<Resumable> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const low = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
  const want = BigInt(wanted);
  return low > want ? { offset: low.toString(), lost: low - want } : { offset: wanted, lost: 0n };
}

export function reportRetentionLoss(
  logger: Logger,
  topology: string,
  partition: number,
  wanted: string,
  resumable: Resumable,
): void {
  recordsLost.inc({ topology, partition: String(partition) }, Number(resumable.lost));
  logger.error(
    { partition, position: wanted, logStart: resumable.offset, lost: Number(resumable.lost) },
    "the source no longer holds this partition's position: retention deleted records before they were " +
      'processed; resuming at the log start',
  );
}
