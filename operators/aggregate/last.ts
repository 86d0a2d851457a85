import type { Aggregator } from './aggregator.js';

/** [eventTime, arrival seq, value] of the latest record so far. */
type LastAcc<V> = [number, number, V] | null;

const isLater = (a: readonly [number, number, unknown], b: readonly [number, number, unknown]): boolean =>
  a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/**
 * The value picked by `field` from the record with the greatest event time (ties: the later arrival).
 * Ordering by event time, not arrival, makes the result independent of how out-of-order records were
 * interleaved, and the arrival tie-break is replayed identically from the changelog. `undefined` is
 * stored as null because accumulators must survive JSON.
 */
export const last = <T, V>(field: (event: T) => V): Aggregator<T, V | null, LastAcc<V | null>, V | null> => ({
  describe: 'last',
  prepare: (event) => field(event) ?? null,
  init: () => null,
  add: (acc, input, at) => {
    const candidate: [number, number, V | null] = [at.eventTime, at.seq, input];
    return acc === null || isLater(candidate, acc) ? candidate : acc;
  },
  merge: (a, b) => (a === null ? b : b === null ? a : isLater(b, a) ? b : a),
  result: (acc) => (acc === null ? null : acc[2]),
});
