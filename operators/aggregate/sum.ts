import { finiteOrNull, type Aggregator } from './aggregator.js';

/** Sum of the finite values picked by `field` (0 for none). */
export const sum = <T>(
  field: (event: T) => number | null | undefined,
): Aggregator<T, number | null, number, number> => ({
  describe: 'sum',
  prepare: (event) => finiteOrNull(field(event)),
  init: () => 0,
  add: (acc, input) => (input === null ? acc : acc + input),
  merge: (a, b) => a + b,
  result: (acc) => acc,
});
