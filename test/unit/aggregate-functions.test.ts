import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Aggregator } from '../../operators/aggregate/aggregator.js';
import { aggregate } from '../../operators/aggregate/aggregate.js';
import { count } from '../../operators/aggregate/count.js';
import { distinctCount } from '../../operators/aggregate/distinct-count.js';
import { max, min } from '../../operators/aggregate/extremes.js';
import { last } from '../../operators/aggregate/last.js';
import { mean } from '../../operators/aggregate/mean.js';
import { sum } from '../../operators/aggregate/sum.js';

interface Txn {
  amount: number;
  country: string;
  merchantId: string;
}
interface Stamped<T> {
  value: T;
  eventTime: number;
}

/** Fold records (seq = position) into one accumulator, optionally through a JSON round trip midway. */
function fold<T, In, Acc, R>(agg: Aggregator<T, In, Acc, R>, items: Stamped<T>[], seqOffset = 0): Acc {
  let acc = agg.init();
  items.forEach((item, i) => {
    acc = agg.add(acc, agg.prepare(item.value), { eventTime: item.eventTime, seq: seqOffset + i });
  });
  return acc;
}
const resultOf = <T, In, Acc, R>(agg: Aggregator<T, In, Acc, R>, items: Stamped<T>[]): R =>
  agg.result(fold(agg, items));

const txnArb = fc.record({
  amount: fc.integer({ min: -1000, max: 1000 }),
  country: fc.constantFrom('AE', 'DE', 'FR', 'US'),
  merchantId: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5'),
});
const itemsArb = fc.array(fc.record({ value: txnArb, eventTime: fc.integer({ min: 0, max: 20 }) }), {
  maxLength: 40,
});

const spec = () =>
  aggregate({
    txnCount: count<Txn>(),
    amountSum: sum((e: Txn) => e.amount),
    amountMean: mean((e: Txn) => e.amount),
    amountMax: max((e: Txn) => e.amount),
    amountMin: min((e: Txn) => e.amount),
    lastCountry: last((e: Txn) => e.country),
    merchants: distinctCount((e: Txn) => e.merchantId),
  });

describe('aggregate functions', () => {
  it('match direct computation over the records', () => {
    fc.assert(
      fc.property(itemsArb, (items) => {
        const amounts = items.map((i) => i.value.amount);
        const result = resultOf(spec(), items);
        let latest: Stamped<Txn> | undefined;
        for (const item of items) if (!latest || item.eventTime >= latest.eventTime) latest = item;
        assert.deepEqual(result, {
          txnCount: items.length,
          amountSum: amounts.reduce((a, b) => a + b, 0),
          amountMean: items.length === 0 ? null : amounts.reduce((a, b) => a + b, 0) / items.length,
          amountMax: items.length === 0 ? null : Math.max(...amounts),
          amountMin: items.length === 0 ? null : Math.min(...amounts),
          lastCountry: latest?.value.country ?? null,
          merchants: new Set(items.map((i) => i.value.merchantId)).size,
        });
      }),
    );
  });

  it('merge of two halves equals folding the whole (sessions merge this way)', () => {
    fc.assert(
      fc.property(itemsArb, fc.nat(), (items, cutSeed) => {
        const cut = cutSeed % (items.length + 1);
        const agg = spec();
        const merged = agg.merge(fold(agg, items.slice(0, cut)), fold(agg, items.slice(cut), cut));
        assert.deepEqual(agg.result(merged), resultOf(agg, items));
      }),
    );
  });

  it('accumulators survive a JSON round trip mid-fold (changelog restore)', () => {
    fc.assert(
      fc.property(itemsArb, fc.nat(), (items, cutSeed) => {
        const cut = cutSeed % (items.length + 1);
        const agg = spec();
        let acc = JSON.parse(JSON.stringify(fold(agg, items.slice(0, cut)))) as unknown[];
        items.slice(cut).forEach((item, i) => {
          acc = agg.add(acc, agg.prepare(item.value), { eventTime: item.eventTime, seq: cut + i });
        });
        assert.deepEqual(agg.result(acc), resultOf(agg, items));
      }),
    );
  });

  it('last is by event time, ties broken by arrival, whatever the arrival order', () => {
    const agg = last((e: { v: string }) => e.v);
    const items = [
      { value: { v: 'x' }, eventTime: 5 },
      { value: { v: 'late-but-newest' }, eventTime: 9 },
      { value: { v: 'old' }, eventTime: 1 },
      { value: { v: 'tie-later-arrival' }, eventTime: 9 },
    ];
    assert.equal(resultOf(agg, items), 'tie-later-arrival');
    assert.equal(resultOf(agg, items.slice(0, 3)), 'late-but-newest');
    assert.equal(resultOf(agg, []), null);
  });

  it('numeric aggregates skip non-finite values like SQL NULL', () => {
    const items = [3, Number.NaN, null, Infinity, 5].map((amount) => ({ value: { amount }, eventTime: 0 }));
    const pick = (e: { amount: number | null }) => e.amount;
    assert.equal(resultOf(sum(pick), items), 8);
    assert.equal(resultOf(mean(pick), items), 4);
    assert.equal(resultOf(max(pick), items), 5);
    assert.equal(resultOf(min(pick), items), 3);
    assert.equal(resultOf(mean(pick), items.slice(1, 4)), null);
  });

  it('distinctCount ignores null/undefined and tells "1" from 1', () => {
    const items = ['1', 1, null, undefined, '1', true].map((id) => ({ value: { id }, eventTime: 0 }));
    assert.equal(
      resultOf(
        distinctCount((e: { id: string | number | boolean | null | undefined }) => e.id),
        items,
      ),
      3,
    );
  });

  it('aggregate() infers the result type and describes its fields', () => {
    const agg = spec();
    const typed: {
      txnCount: number;
      amountSum: number;
      amountMean: number | null;
      amountMax: number | null;
      amountMin: number | null;
      lastCountry: string | null;
      merchants: number;
    } = agg.result(agg.init());
    assert.equal(typed.txnCount, 0);
    assert.match(agg.describe, /txnCount:count,amountSum:sum,.*merchants:distinctCount/);
  });

  it('aggregate() rejects an empty spec or a non-aggregator field with a clear message', () => {
    assert.throws(() => aggregate({}), /at least one field/);
    assert.throws(
      () => aggregate({ n: 42 as unknown as Aggregator<unknown, unknown, unknown, unknown> }),
      /field "n" is not an aggregator/,
    );
  });
});
