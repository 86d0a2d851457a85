/**
 * The element protocol every Sluice stage speaks.
 *
 * Each assigned Kafka partition runs its own RxJS pipeline. Besides records, the source injects
 * checkpoint barriers (as in Flink's Chandy-Lamport checkpoints). Every stage forwards a barrier only
 * after everything before it has been emitted or absorbed into state; sinks forward it only after every
 * earlier write is durably acknowledged. When a barrier reaches the end of every sink branch, the runtime
 * commits, in one Kafka transaction, the state captured at that barrier and the source offset it carries.
 * Outstanding barriers are also the unit of backpressure: a partition with too many is paused.
 */
import type { OperatorFunction } from 'rxjs';

/** Where a record came from in Kafka; kept on every derived record for dead letters and lineage. */
export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as a decimal string (kafkajs convention). */
  readonly offset: string;
  /** Kafka record timestamp, epoch ms. */
  readonly timestamp: number;
}

export interface StreamRecord<T> {
  readonly kind: 'record';
  readonly value: T;
  /** Partitioning / grouping key; null until a keyBy stage sets it (or the Kafka key if present). */
  readonly key: string | null;
  /** Event time, epoch ms (from a field or the Kafka timestamp). */
  readonly eventTime: number;
  readonly source: SourcePosition;
  readonly headers: Readonly<Record<string, string>>;
}

export interface Barrier {
  readonly kind: 'barrier';
  /** Monotonic per partition pipeline. */
  readonly id: number;
  readonly partition: number;
  /** Offset of the next record to read once everything before this barrier is committed. */
  readonly nextOffset: string;
}

export type Element<T> = StreamRecord<T> | Barrier;

export const isRecord = <T>(e: Element<T>): e is StreamRecord<T> => e.kind === 'record';
export const isBarrier = <T>(e: Element<T>): e is Barrier => e.kind === 'barrier';

/** A dead-letter reason: a stable code for dashboards plus a human message. */
export interface DeadLetterReason {
  readonly code: string;
  readonly message: string;
}

/** Raw bytes of the original Kafka record, so a dead letter carries exactly what was read. */
export interface RawRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly source: SourcePosition;
}

/** Keyed, per-partition state that survives crashes through a compacted changelog topic. */
export interface KeyValueStore<V> {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  delete(key: string): void;
  keys(): IterableIterator<string>;
  readonly size: number;
}

/** Extra output channels of a stage (late events, ...). Each write is awaited before the barrier commits. */
export interface SideOutputs {
  deadLetter(record: RawRecord, reason: DeadLetterReason): void;
  late(record: StreamRecord<unknown>, reason: DeadLetterReason): void;
}

export interface PartitionContext {
  readonly topology: string;
  readonly topic: string;
  readonly partition: number;
  /** A named store, already restored from its changelog before the first record arrives. */
  store<V>(name: string): KeyValueStore<V>;
  /**
   * Called by a stateful stage when a barrier passes through it, before forwarding the barrier: captures
   * the dirty entries of its stores so the commit reflects exactly the records before the barrier.
   */
  captureState(barrier: Barrier): void;
  readonly side: SideOutputs;
  /** The raw Kafka record a derived record came from (kept until its barrier commits). */
  raw(position: SourcePosition): RawRecord | undefined;
}

/** A stage is an RxJS operator made per partition, so per-subscription state is per partition. */
export type Stage<A, B> = (ctx: PartitionContext) => OperatorFunction<Element<A>, Element<B>>;
