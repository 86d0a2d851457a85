import type { Aggregator } from './aggregator.js';

/** Number of records in the window. */
export const count = <T = unknown>(): Aggregator<T, null, number, number> => ({
  describe: 'count',
  prepare: () => null,
  init: () => 0,
  add: (acc) => acc + 1,
  merge: (a, b) => a + b,
  result: (acc) => acc,
});
