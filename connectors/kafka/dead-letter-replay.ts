/**
 * Replays a topology's dead letters once their cause is fixed: each original record goes back to its
 * topic (or another one) with a `sluice.replay.of` header. Exactly once per consumer group: the replayed
 * records and the group's position in the dead-letter topic commit in one Kafka transaction, so a replay
 * that is killed and run again neither skips nor repeats a letter. It stops at the ends the dead-letter
 * topic had when it started, so letters the replayed records cause again are left for the next run.
 */
import type { Admin, Kafka, KafkaMessage, Message } from 'kafkajs';
import { chunksBySize } from './chunks.js';
import { consumeUntilDone } from './consume-until-done.js';
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

/**
 * Fails with one line naming the fix unless the topology's dead-letter topic (most often missing: a
 * misspelt name) and the topic to replay into exist.
 */
export async function requireReplayTopics(admin: Admin, topology: string, toTopic?: string): Promise<void> {
  const names = new Set(await admin.listTopics());
  if (!names.has(deadLetterTopic(topology))) {
    throw new TopicConfigError(
      `there is no topic ${deadLetterTopic(topology)}: is '${topology}' the name of a topology that has run? (sluice topics list)`,
    );
  }
  // Checked up front: a missing target would otherwise fail the first batch after kafkajs' retries.
  if (toTopic !== undefined && !names.has(toTopic)) {
    throw new TopicConfigError(
      `there is no topic ${toTopic} to replay into; create it first (sluice topics create ${toTopic})`,
    );
  }
}

/** The report while it is being added up. */
type ReplayTally = { -readonly [K in keyof ReplayReport]: ReplayReport[K] };

const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

const PASSED_OVER = Symbol('passed over');
type Taken =
  | { readonly to: string; readonly code: string; readonly message: Message }
  | { readonly skip: string | typeof PASSED_OVER };

export async function replayDeadLetters(kafka: Kafka, options: ReplayOptions): Promise<ReplayReport> {
  const topic = deadLetterTopic(options.topology);
  const groupId = options.groupId ?? `${options.topology}.dlq-replay`;
  const codes = options.codes && options.codes.length > 0 ? new Set(options.codes) : undefined;
  const report: ReplayTally = {
    groupId,
    dryRun: options.dryRun ?? false,
    replayed: 0,
    replayedByCode: {},
    passedOver: 0,
    notReplayable: {},
  };

  // Where each partition ends now, and where this group left off: what is left to replay.
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  let total = 0;
  try {
    await requireReplayTopics(admin, options.topology, options.toTopic);
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
  // A short session: a replay that died hands its partitions to the next run within seconds.
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  let read = 0;
  try {
    const stallMs = options.stallTimeoutMs ?? 60_000;
    await consumeUntilDone(consumer, {
      topic,
      pending: new Set(ends.keys()),
      finished: (batch) => BigInt(batch.lastOffset) + 1n >= (ends.get(batch.partition) as bigint),
      pauseFinished: true,
      stallMs,
      stalled: () => `replaying ${topic} made no progress for ${stallMs} ms (${read} of ${total} read)`,
      eachBatch: async ({ batch }) => {
        const end = ends.get(batch.partition);
        if (end === undefined || batch.messages.length === 0) return;
        // Counted into the report only once committed: a failed batch is fetched and taken again.
        const taken = takeBatch(batch.messages, end, (message) =>
          take(message, topic, codes, options.toTopic),
        );
        if (producer) {
          // Never past the end taken at the start: what was written since is the next run's.
          const last = BigInt(batch.lastOffset()) + 1n;
          const next = last < end ? last : end;
          const tx = await producer.transaction();
          try {
            // In requests of ~512 KiB, as the Kafka sink writes: a fetch of up to 1 MiB of letters would
            // otherwise make one record batch close to the broker's default 1 MiB limit.
            for (const [to, messages] of taken.replays) {
              for (const chunk of chunksBySize(messages, 512 * 1024)) {
                await tx.send({ topic: to, acks: -1, messages: chunk });
              }
            }
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
        read += taken.read;
        addInto(report, taken);
        options.onProgress?.({ read, total });
      },
    });
  } finally {
    await consumer.disconnect();
    await producer?.disconnect();
  }
  return report;
}

/** What one letter comes to: a record to write (and where), or why it is skipped. */
function take(
  message: KafkaMessage,
  topic: string,
  codes: ReadonlySet<string> | undefined,
  toTopic: string | undefined,
): Taken {
  const letter: DeadLetter | Error = parseDeadLetter(message);
  if (letter instanceof Error) return { skip: 'not a Sluice dead letter' };
  if (codes && !codes.has(letter.reason.code)) return { skip: PASSED_OVER };
  if (letter.notReplayable) return { skip: letter.notReplayable };
  const to = toTopic ?? letter.source.topic;
  return { to, code: letter.reason.code, message: replayMessage(letter, `${topic}/${message.offset}`, to) };
}

interface BatchTaken {
  /** Letters read (those at or past `end` are left for the next replay). */
  readonly read: number;
  readonly replays: Map<string, Message[]>;
  readonly replayed: number;
  readonly byCode: Record<string, number>;
  readonly passedOver: number;
  readonly skipped: Record<string, number>;
}

function takeBatch(
  messages: readonly KafkaMessage[],
  end: bigint,
  takeOne: (m: KafkaMessage) => Taken,
): BatchTaken {
  const taken = {
    read: 0,
    replays: new Map<string, Message[]>(),
    replayed: 0,
    byCode: {},
    passedOver: 0,
    skipped: {},
  };
  for (const message of messages) {
    if (BigInt(message.offset) >= end) break; // written after the replay started
    taken.read += 1;
    const t = takeOne(message);
    if ('skip' in t) {
      if (t.skip === PASSED_OVER) taken.passedOver += 1;
      else bump(taken.skipped, t.skip);
      continue;
    }
    const list = taken.replays.get(t.to) ?? [];
    list.push(t.message);
    taken.replays.set(t.to, list);
    taken.replayed += 1;
    bump(taken.byCode, t.code);
  }
  return taken;
}

function addInto(report: ReplayTally, taken: BatchTaken): void {
  report.replayed += taken.replayed;
  report.passedOver += taken.passedOver;
  for (const [code, n] of Object.entries(taken.byCode))
    report.replayedByCode[code] = (report.replayedByCode[code] ?? 0) + n;
  for (const [why, n] of Object.entries(taken.skipped))
    report.notReplayable[why] = (report.notReplayable[why] ?? 0) + n;
}
