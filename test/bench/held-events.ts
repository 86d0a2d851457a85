/**
 * Timing a topology from a standing start: its input is written in one open transaction, invisible to
 * read_committed consumers (the workers) until the commit makes it all visible at once, so the clock
 * starts with every worker settled and warm, and stops at the checkpoint commit covering the last event.
 */
import type { Kafka, Message } from 'kafkajs';
import { uniqueName, withAdmin } from '../support/kafka.js';
import { until } from '../support/until.js';
import type { CommitTracker } from './commit-watch.js';
import { cpuMark, measuredSince, type Measured } from './machine-cpu.js';

/** A worker that has not committed every event by then has failed; the bench says so instead of hanging. */
export const COMMITTED_WITHIN_MS = 300_000;

/** Each partition's end offset less `markers` (offsets that are transaction markers, never consumed). */
export async function endOffsets(kafka: Kafka, topic: string, markers = 0): Promise<Map<number, bigint>> {
  const ends = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return new Map(ends.map((e) => [e.partition, BigInt(e.high) - BigInt(markers)]));
}

export const eventsIn = (ends: ReadonlyMap<number, bigint>) =>
  [...ends.values()].reduce((a, e) => a + Number(e), 0);

/**
 * Until `groupId` is one stable group of `members` members and `ready` says each worker has applied its
 * assignment: only then are held events released (a rebalance would otherwise be part of the timed run).
 */
export async function groupSettled(
  kafka: Kafka,
  groupId: string,
  members: number,
  ready: () => boolean | Promise<boolean>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 180_000; // each worker first warms up
    for (;;) {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      if (group?.state === 'Stable' && group.members.length === members && (await ready())) return;
      if (Date.now() > deadline)
        throw new Error(`${groupId}: the ${members} members did not settle in one group`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

export interface HeldEvents {
  /** Makes the events visible and times them until `tracker` has seen every partition committed. */
  release(tracker: CommitTracker): Promise<Measured>;
  /** Aborts the transaction if it is still open (a failed run). */
  abort(): Promise<void>;
}

/**
 * `messages` written to `topic` in one open transaction. `before`: how many events the topic already
 * holds (visible), which the workers must also have committed by the end, but which are not timed.
 */
export async function heldInTransaction(
  kafka: Kafka,
  topic: string,
  messages: readonly Message[],
  before = 0,
): Promise<HeldEvents> {
  const producer = kafka.producer({
    transactionalId: uniqueName('bench-held'),
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 300_000, // open while the workers warm up and settle
  });
  await producer.connect();
  const tx = await producer.transaction();
  for (let i = 0; i < messages.length; i += 5000) {
    await tx.send({ topic, acks: -1, messages: messages.slice(i, i + 5000) });
  }
  let open = true;
  const end = async (commit: boolean) => {
    if (!open) return;
    open = false;
    await (commit ? tx.commit() : tx.abort());
    await producer.disconnect();
  };
  return {
    async release(tracker) {
      const released = cpuMark();
      await end(true);
      // One marker per partition ends the transaction. The admin reads the last stable offset, which moves
      // only once the coordinator has written those markers, a few ms after commit() returns: read too
      // early, some partitions' ends are still 0 and the run would count as done at once.
      let ends = new Map<number, bigint>();
      await until(
        'the released events to be visible to read_committed readers',
        async () => eventsIn((ends = await endOffsets(kafka, topic, 1))) === before + messages.length,
        { timeoutMs: 30_000, everyMs: 5 },
      );
      tracker.expect(ends);
      return measuredSince(released, messages.length, await tracker.doneWithin(COMMITTED_WITHIN_MS));
    },
    abort: () => end(false),
  };
}
