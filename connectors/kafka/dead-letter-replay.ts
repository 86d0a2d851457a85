/**
 * Replays a topology's dead letters once their cause is fixed: each original record goes back to its
 * topic (or another one) with a `sluice.replay.of` header. Exactly once per consumer group: the replayed
 * records and the group's position in the dead-letter topic commit in one Kafka transaction, so a replay
 * that is killed and run again neither skips nor repeats a letter. It stops at the ends the dead-letter
 * topic had when it started, so letters the replayed records cause again are left for the next run.
 */
import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import { deadLetterTopic } from './dead-letter.js';
import { TopicConfigError } from './topics.js';
import { parseDeadLetter, replayMessage, type DeadLetter } from './dead-letter-record.js';

export interface ReplayOptions {
  readonly topology: string;
  /** Replay only letters with these reason codes (the others are passed over, and counted). */
  readonly codes?: readonly string[];
  /** Where the records go (default: the topic each was read from). */
  readonly toTopic?: string;
  /** Remembers how far replays got (default `<topology>.dlq-replay`); a new one starts from the beginning. */
  readonly groupId?: string;
  /** Count what would be replayed; write and commit nothing. */
  readonly dryRun?: boolean;
  /** Fails the replay when this long passes without a fetched batch (default 60 s). */
  readonly stallTimeoutMs?: number;
  readonly onProgress?: (progress: ReplayProgress) => void;
}

export interface ReplayProgress {
  /** Letters read so far, and how many there were to read when the replay started. */
  readonly read: number;
  readonly total: number;
}

export interface ReplayReport {
  readonly groupId: string;
  readonly dryRun: boolean;
  readonly replayed: number;
  readonly replayedByCode: Record<string, number>;
  /** Letters passed over because their code was not asked for. */
  readonly passedOver: number;
  /** Letters whose record cannot be replayed (cut to fit, a compressed batch, not a dead letter), by why. */
  readonly notReplayable: Record<string, number>;
}

/** The error for a topology without a dead-letter topic: most often a misspelt name. */
export const noDeadLetterTopic = (topology: string) =>
  new TopicConfigError(
    `there is no topic ${deadLetterTopic(topology)}: is '${topology}' the name of a topology that has run? (sluice topics list)`,
  );

const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

const PASSED_OVER = Symbol('passed over');
type Taken =
  | { readonly to: string; readonly code: string; readonly message: Message }
  | { readonly skip: string | typeof PASSED_OVER };

export async function replayDeadLetters(kafka: Kafka, options: ReplayOptions): Promise<ReplayReport> {
  const topic = deadLetterTopic(options.topology);
  const groupId = options.groupId ?? `${options.topology}.dlq-replay`;
  const codes = options.codes && options.codes.length > 0 ? new Set(options.codes) : undefined;
  const report = {
    groupId,
    dryRun: options.dryRun ?? false,
    replayed: 0,
    replayedByCode: {} as Record<string, number>,
    passedOver: 0,
    notReplayable: {} as Record<string, number>,
  };

  // Where each partition ends now, and where this group left off: what is left to replay.
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  let total = 0;
  try {
    const { topics: existing } = await admin.fetchTopicMetadata();
    const names = new Set(existing.map((t) => t.name));
    if (!names.has(topic)) throw noDeadLetterTopic(options.topology);
    // Checked up front: a missing target would otherwise fail the first batch after kafkajs' retries.
    if (options.toTopic !== undefined && !names.has(options.toTopic)) {
      throw new TopicConfigError(
        `there is no topic ${options.toTopic} to replay into; create it first (sluice topics create ${options.toTopic})`,
      );
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const from = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    for (const o of offsets) {
      const start = [BigInt(o.low), from.get(o.partition) ?? -1n].reduce((a, b) => (a > b ? a : b));
      if (BigInt(o.high) > start) {
        ends.set(o.partition, BigInt(o.high));
        total += Number(BigInt(o.high) - start);
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return report;

  const producer = report.dryRun
    ? undefined
    : kafka.producer({ transactionalId: groupId, maxInFlightRequests: 1, idempotent: true });
  await producer?.connect();
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3000 });
  await consumer.connect();
  let read = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const stallMs = options.stallTimeoutMs ?? 60_000;
      const stalled = () =>
        reject(new Error(`replaying ${topic} made no progress for ${stallMs} ms (${read} of ${total} read)`));
      let timer = setTimeout(stalled, stallMs);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        reject(payload.error);
      });
      // Fires for every fetched batch, also for ones holding only transaction markers.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        clearTimeout(timer);
        const end = ends.get(payload.partition);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) {
          ends.delete(payload.partition);
          consumer.pause([{ topic, partitions: [payload.partition] }]);
        }
        if (ends.size === 0) return resolve();
        timer = setTimeout(stalled, stallMs);
      });
      /** What one letter comes to: a record to write (and where), or why it is skipped. */
      const take = (message: KafkaMessage): Taken => {
        const letter: DeadLetter | Error = parseDeadLetter(message);
        if (letter instanceof Error) return { skip: 'not a Sluice dead letter' };
        if (codes && !codes.has(letter.reason.code)) return { skip: PASSED_OVER };
        if (letter.notReplayable) return { skip: letter.notReplayable };
        const to = options.toTopic ?? letter.source.topic;
        return {
          to,
          code: letter.reason.code,
          message: replayMessage(letter, `${topic}/${message.offset}`, to),
        };
      };
      consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = ends.get(batch.partition);
              if (end === undefined || batch.messages.length === 0) return;
              // Counted into the report only once committed: a failed batch is fetched and taken again.
              const replays = new Map<string, Message[]>();
              const counts = {
                replayed: 0,
                byCode: {} as Record<string, number>,
                passedOver: 0,
                skipped: {} as Record<string, number>,
              };
              let taken = 0;
              for (const message of batch.messages) {
                if (BigInt(message.offset) >= end) break; // written after the replay started
                taken += 1;
                const t = take(message);
                if ('skip' in t) {
                  if (t.skip === PASSED_OVER) counts.passedOver += 1;
                  else bump(counts.skipped, t.skip);
                  continue;
                }
                replays.set(t.to, [...(replays.get(t.to) ?? []), t.message]);
                counts.replayed += 1;
                bump(counts.byCode, t.code);
              }
              if (producer) {
                // Never past the end taken at the start: what was written since is the next run's.
                const last = BigInt(batch.lastOffset()) + 1n;
                const next = last < end ? last : end;
                const tx = await producer.transaction();
                try {
                  for (const [to, messages] of replays) await tx.send({ topic: to, acks: -1, messages });
                  await tx.sendOffsets({
                    consumerGroupId: groupId,
                    topics: [{ topic, partitions: [{ partition: batch.partition, offset: String(next) }] }],
                  });
                  await tx.commit();
                } catch (err) {
                  await tx.abort().catch(() => undefined);
                  throw err;
                }
              }
              read += taken;
              report.replayed += counts.replayed;
              for (const [code, n] of Object.entries(counts.byCode))
                report.replayedByCode[code] = (report.replayedByCode[code] ?? 0) + n;
              report.passedOver += counts.passedOver;
              for (const [why, n] of Object.entries(counts.skipped))
                report.notReplayable[why] = (report.notReplayable[why] ?? 0) + n;
              options.onProgress?.({ read, total });
            },
          }),
        )
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await consumer.disconnect();
    await producer?.disconnect();
  }
  return report;
}
