/**
 * When a topology's checkpoints have committed every event, seen as the commits happen instead of by
 * polling the group's offsets. A poll every 10 ms (an OffsetFetch round trip, about 0.6 ms of client CPU
 * each) taxed the run it timed: in process it ran on the worker's own event loop, and beside the worker
 * processes it took a share of the same 2 cores. The raw consumer it is compared with pays no such tax.
 */
import type { Kafka, Producer, Transaction } from 'kafkajs';
import { watchedKafka } from '../support/kafka.js';
import { cpuMark, type CpuMark } from './machine-cpu.js';

export interface CommittedOffset {
  readonly partition: number;
  /** The next offset to read, as committed. */
  readonly offset: string;
}

/**
 * `kafka` with every transactional commit of `groupId`'s offsets on `topic` reported to `listener` once
 * the transaction has committed (the worker commits state and offsets in one transaction, so only then is
 * an event done).
 */
export function reportingCommits(
  kafka: Kafka,
  groupId: string,
  topic: string,
  listener: (offsets: CommittedOffset[]) => void,
): Kafka {
  return watchedKafka(kafka, {
    producer: (producer) => reportTransactions(producer, groupId, topic, listener),
  });
}

function reportTransactions(
  producer: Producer,
  groupId: string,
  topic: string,
  listener: (offsets: CommittedOffset[]) => void,
): void {
  const open = producer.transaction.bind(producer);
  producer.transaction = async (): Promise<Transaction> => {
    const tx = await open();
    const sendOffsets = tx.sendOffsets.bind(tx);
    const commit = tx.commit.bind(tx);
    let offsets: CommittedOffset[] = [];
    tx.sendOffsets = async (request) => {
      if (request.consumerGroupId === groupId) {
        offsets = request.topics.filter((t) => t.topic === topic).flatMap((t) => t.partitions);
      }
      return sendOffsets(request);
    };
    tx.commit = async () => {
      await commit();
      if (offsets.length > 0) listener(offsets);
    };
    return tx;
  };
}

/** Collects committed offsets (from any number of workers) until every partition has reached its end. */
export class CommitTracker {
  private readonly committed = new Map<number, bigint>();
  private ends: ReadonlyMap<number, bigint> | undefined;
  private resolve: (at: CpuMark) => void = () => undefined;
  private readonly reached = new Promise<CpuMark>((r) => (this.resolve = r));

  /** The machine CPU mark taken the moment the last partition's commit arrived; fails after `ms`. */
  async doneWithin(ms: number): Promise<CpuMark> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.describe()} after ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.reached, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private describe(): string {
    const behind = [...(this.ends ?? new Map<number, bigint>())]
      .filter(([p, end]) => (this.committed.get(p) ?? -1n) < end)
      .map(([p, end]) => `partition ${p} at ${this.committed.get(p) ?? 'nothing'} of ${end}`);
    return this.ends ? `commits did not reach the end (${behind.join(', ')})` : 'no end offsets were given';
  }

  add(offsets: readonly CommittedOffset[]): void {
    for (const { partition, offset } of offsets) {
      const next = BigInt(offset);
      if (next > (this.committed.get(partition) ?? -1n)) this.committed.set(partition, next);
    }
    this.check();
  }

  /** The offset each partition's commits must reach; commits that came earlier count too. */
  expect(ends: ReadonlyMap<number, bigint>): void {
    this.ends = ends;
    this.check();
  }

  private check(): void {
    if (!this.ends) return;
    for (const [partition, end] of this.ends) {
      if ((this.committed.get(partition) ?? -1n) < end) return;
    }
    this.resolve(cpuMark());
  }
}
