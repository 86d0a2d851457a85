import type { Aggregator, AnyAggregator } from './aggregator.js';

/** The result type of a spec: each field's aggregator result. */
export type AggregateResult<S> = {
  [K in keyof S]: S[K] extends Aggregator<never, unknown, unknown, infer R> ? R : never;
};

/**
 * Combine named aggregators into one whose result is an object with the same fields:
 * `aggregate({ txnCount: count(), amountSum: sum((e) => e.amount) })` yields
 * `{ txnCount: number; amountSum: number }`. Inputs and accumulators are positional arrays (field order
 * of the spec) to keep stored window state small; `describe` lists the fields so a changed spec is
 * detected instead of misreading restored state.
 */
export function aggregate<T, S extends Record<string, AnyAggregator<T>>>(
  spec: S,
): Aggregator<T, unknown[], unknown[], AggregateResult<S>> {
  const names = Object.keys(spec);
  if (names.length === 0) throw new Error('aggregate({}) needs at least one field, e.g. { n: count() }');
  const parts = names.map((name) => {
    const part = spec[name];
    if (!part || typeof part.add !== 'function') {
      throw new Error(
        `aggregate field "${name}" is not an aggregator; use count(), sum(...), mean(...), ...`,
      );
    }
    return part;
  });
  return {
    describe: `aggregate(${names.map((name, i) => `${name}:${parts[i]!.describe}`).join(',')})`,
    // Plain loops, and add/merge update the accumulator in place (the contract allows it): these run once
    // per record and window, and a fresh array plus a closure per call was most of the pipeline's garbage.
    prepare: (value) => {
      const input = new Array<unknown>(parts.length);
      for (let i = 0; i < parts.length; i += 1) input[i] = (parts[i] as AnyAggregator<T>).prepare(value);
      return input;
    },
    init: () => parts.map((part) => part.init()),
    add: (acc, input, at) => {
      for (let i = 0; i < parts.length; i += 1)
        acc[i] = (parts[i] as AnyAggregator<T>).add(acc[i], input[i], at);
      return acc;
    },
    merge: (a, b) => {
      for (let i = 0; i < parts.length; i += 1) a[i] = (parts[i] as AnyAggregator<T>).merge(a[i], b[i]);
      return a;
    },
    result: (acc) => {
      const out: Record<string, unknown> = {};
      names.forEach((name, i) => (out[name] = parts[i]!.result(acc[i])));
      return out as AggregateResult<S>;
    },
  };
}
