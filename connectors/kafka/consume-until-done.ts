/**
 * Runs a consumer over one topic until each of a set of partitions is done, then resolves: what a state
 * restore (readToEnd) and a dead-letter replay share. It fails on a consumer crash, and when a whole
 * stall period passes without a fetched batch; the period restarts with every batch, so a long read that
 * keeps moving is never cut short.
 */
import type { Consumer, EachBatchPayload } from 'kafkajs';

/** What kafkajs reports after each batch: every fetched batch, also one holding only transaction markers. */
export interface BatchEnd {
  readonly topic: string;
  readonly partition: number;
  readonly lastOffset: string;
  readonly offsetLag: string;
}

export interface ConsumeUntilDoneOptions {
  readonly topic: string;
  /** Partitions still to finish; each leaves the set once `finished` says so. */
  readonly pending: Set<number>;
  readonly finished: (batch: BatchEnd) => boolean;
  readonly eachBatch: (payload: EachBatchPayload) => Promise<void>;
  /** Stop fetching a partition once it is finished (others may still be read for long). */
  readonly pauseFinished?: boolean;
  readonly stallMs: number;
  /** The error message when a stall period passes without a batch. */
  readonly stalled: () => string;
  /** After each batch while partitions remain. */
  readonly onBatchEnd?: (batch: BatchEnd) => void;
  readonly onGroupJoin?: (assigned: readonly number[]) => void;
}

export function consumeUntilDone(consumer: Consumer, o: ConsumeUntilDoneOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stall = () => reject(new Error(o.stalled()));
    let timer = setTimeout(stall, o.stallMs);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      clearTimeout(timer);
      reject(payload.error);
    });
    if (o.onGroupJoin) {
      const onGroupJoin = o.onGroupJoin;
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
        onGroupJoin(payload.memberAssignment[o.topic] ?? []),
      );
    }
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      clearTimeout(timer);
      if (payload.topic === o.topic && o.pending.has(payload.partition) && o.finished(payload)) {
        o.pending.delete(payload.partition);
        if (o.pauseFinished) consumer.pause([{ topic: o.topic, partitions: [payload.partition] }]);
      }
      if (o.pending.size === 0) return resolve();
      timer = setTimeout(stall, o.stallMs);
      o.onBatchEnd?.(payload);
    });
    consumer
      .subscribe({ topic: o.topic, fromBeginning: true })
      .then(() => consumer.run({ autoCommit: false, eachBatch: o.eachBatch }))
      .catch((err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
  });
}
