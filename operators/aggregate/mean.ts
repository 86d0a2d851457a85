import { finiteOrNull, type Aggregator } from './aggregator.js';

/** [sum, count] of the finite values seen. */
type MeanAcc = [number, number];

/** Arithmetic mean of the finite values picked by `field`; null when there were none. */
export const mean = <T>(
  field: (event: T) => number | null | undefined,
): Aggregator<T, number | null, MeanAcc, number | null> => ({
  describe: 'mean',
  prepare: (event) => finiteOrNull(field(event)),
  init: () => [0, 0],
  add: (acc, input) => (input === null ? acc : [acc[0] + input, acc[1] + 1]),
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
  result: ([total, n]) => (n === 0 ? null : total / n),
});
