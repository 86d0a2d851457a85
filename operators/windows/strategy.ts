import type { KeyValueStore } from '../../schemas/stream.js';
import type { ArrivalStamp } from '../aggregate/aggregator.js';
import type { ClosingQueue } from './closing-queue.js';

/** The accumulator operations the engine needs (a subset of an Aggregator, so tests can use their own). */
export interface AccumulatorOps<In, Acc> {
  init(): Acc;
  add(acc: Acc, input: In, at: ArrivalStamp): Acc;
  merge(a: Acc, b: Acc): Acc;
}

/** A window that closed: emitted exactly once, after which its state is gone. */
export interface ClosedWindow<Acc> {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly acc: Acc;
}

/** Why a record was not added to any window. */
export interface LateInfo {
  readonly eventTime: number;
  readonly watermark: number;
  /** The watermark at which the last window this record could have joined closed. */
  readonly closedAt: number;
}

export interface StrategyContext<In, Acc> {
  readonly store: KeyValueStore<unknown>;
  readonly queue: ClosingQueue;
  readonly ops: AccumulatorOps<In, Acc>;
  readonly grace: number;
}

/** One kind of window (fixed, session, sliding): how records enter state and how windows leave it. */
export interface WindowStrategy<In> {
  /** Add an admitted record, or return why it is late (state untouched). */
  add(key: string, eventTime: number, input: In, stamp: ArrivalStamp, watermark: number): LateInfo | null;
  /** Emit (and forget) every window due at `watermark`. */
  closeDue(watermark: number): ClosedWindow<unknown>[];
  /**
   * Bring the store up to date with this strategy's state: called before a checkpoint captures the store
   * (a strategy may keep its working state in memory between checkpoints).
   */
  flush(): void;
  /** Take over one restored store entry (the store holds what the last flush before a checkpoint wrote). */
  restore(storeKey: string, watermark: number): void;
}
