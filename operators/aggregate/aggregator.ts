/**
 * The contract every window aggregate follows. Accumulators must be plain JSON values because they live
 * in a changelog-backed KeyValueStore and are restored after a crash.
 */

/** When a record was added: event time plus the per-partition arrival sequence (breaks event-time ties). */
export interface ArrivalStamp {
  readonly eventTime: number;
  readonly seq: number;
}

export interface Aggregator<T, In, Acc, R> {
  /** Stable description (kind + field names); a changed description means restored state is unusable. */
  readonly describe: string;
  /**
   * Project the event onto the small JSON value this aggregate needs. Called once per record, before
   * any state changes, so a throwing extractor cannot leave a window half-updated. Sliding windows
   * keep these projections (not whole events) until the windows that may need them close.
   */
  prepare(value: T): In;
  init(): Acc;
  /**
   * Add one projected record; may mutate and must return the accumulator. `at` is valid only during the
   * call (the window engine reuses one stamp): copy its fields, never keep it.
   */
  add(acc: Acc, input: In, at: ArrivalStamp): Acc;
  /** Combine two accumulators (session merges); may mutate `a` and must return the result. */
  merge(a: Acc, b: Acc): Acc;
  result(acc: Acc): R;
}

// `any` is needed so specs with different accumulator types fit one constraint; results stay typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAggregator<T, R = unknown> = Aggregator<T, any, any, R>;

/** The numeric inputs of sum/mean/min/max: non-finite values (null, NaN, Infinity) are skipped, like SQL NULL. */
export const finiteOrNull = (x: unknown): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : null;
