import { finiteOrNull, type Aggregator } from './aggregator.js';

const extreme =
  (kind: 'max' | 'min', pick: (a: number, b: number) => number) =>
  <T>(
    field: (event: T) => number | null | undefined,
  ): Aggregator<T, number | null, number | null, number | null> => {
    const combine = (a: number | null, b: number | null): number | null =>
      a === null ? b : b === null ? a : pick(a, b);
    return {
      describe: kind,
      prepare: (event) => finiteOrNull(field(event)),
      init: () => null,
      add: combine,
      merge: combine,
      result: (acc) => acc,
    };
  };

/** Largest finite value picked by `field`; null when there were none. */
export const max = extreme('max', Math.max);
/** Smallest finite value picked by `field`; null when there were none. */
export const min = extreme('min', Math.min);
