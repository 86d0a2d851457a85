import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  hllAdd,
  hllEmpty,
  hllEstimate,
  hllMerge,
  type HllSketch,
} from '../../operators/aggregate/hyperloglog.js';
import { murmur3 } from '../../operators/aggregate/murmur3.js';

const sketchOf = (values: Iterable<string>): HllSketch => {
  let sketch = hllEmpty();
  for (const v of values) sketch = hllAdd(sketch, murmur3(v));
  return sketch;
};
const range = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('HyperLogLog (precision 12)', () => {
  it('murmur3 matches the reference test vectors', () => {
    assert.equal(murmur3(''), 0);
    assert.equal(murmur3('hello'), 0x248bfa47);
    assert.equal(murmur3('The quick brown fox jumps over the lazy dog'), 0x2e4ff723);
  });

  it('is exact for tiny sets and counts duplicates once', () => {
    assert.equal(hllEstimate(hllEmpty()), 0);
    assert.equal(Math.round(hllEstimate(sketchOf(['a']))), 1);
    assert.equal(Math.round(hllEstimate(sketchOf(['a', 'b', 'a', 'c', 'b']))), 3);
  });

  it('relative error is about 1.04/sqrt(4096) = 1.6% (RMS < 3%, bias < 1.5%) across the range', () => {
    for (const n of [500, 5_000, 10_000, 30_000]) {
      const errors = Array.from(
        { length: 8 },
        (_, trial) => hllEstimate(sketchOf(range(`t${trial}-`, 0, n))) / n - 1,
      );
      const bias = errors.reduce((a, b) => a + b, 0) / errors.length;
      const rms = Math.sqrt(errors.reduce((a, b) => a + b * b, 0) / errors.length);
      assert.ok(rms < 0.03, `n=${n}: RMS relative error ${rms.toFixed(4)} >= 3%`);
      assert.ok(Math.abs(bias) < 0.015, `n=${n}: bias ${bias.toFixed(4)}`);
    }
  });

  it('merge is the sketch of the union (sparse, dense and mixed), and survives JSON', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2500 }),
        fc.integer({ min: 0, max: 2500 }),
        fc.integer({ min: 0, max: 2500 }),
        (a, b, overlap) => {
          const left = range('v', 0, a);
          const right = range('v', Math.max(0, a - overlap), Math.max(0, a - overlap) + b);
          const merged = hllMerge(
            JSON.parse(JSON.stringify(sketchOf(left))) as HllSketch,
            JSON.parse(JSON.stringify(sketchOf(right))) as HllSketch,
          );
          assert.equal(hllEstimate(merged), hllEstimate(sketchOf([...left, ...right])));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('stays small while sparse and switches to a 5.4 kB dense form for many values', () => {
    const small = sketchOf(range('s', 0, 50));
    assert.ok(Array.isArray(small) && small.length <= 50);
    const large = sketchOf(range('s', 0, 5000));
    assert.equal(typeof large, 'string');
    assert.ok(JSON.stringify(large).length < 5600);
  });
});
