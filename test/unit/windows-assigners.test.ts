import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDuration } from '../../operators/windows/duration.js';
import { fixedWindowsContaining, hopping } from '../../operators/windows/hopping.js';
import { session } from '../../operators/windows/session.js';
import { sliding } from '../../operators/windows/sliding.js';
import { tumbling } from '../../operators/windows/tumbling.js';

describe('parseDuration', () => {
  it('parses numbers (ms), units and compound strings', () => {
    assert.equal(parseDuration(1500), 1500);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration(' 1.5s '), 1500);
    assert.equal(parseDuration('0.1s'), 100);
    assert.equal(parseDuration(0), 0);
  });

  it('rejects bad input with a message naming the option and the accepted forms', () => {
    for (const bad of ['', '10', '10x', '-5s', '1.5ms', 's', '1 m x', 'NaN']) {
      assert.throws(
        () => parseDuration(bad, 'grace'),
        (err: Error) => {
          assert.match(err.message, /^Invalid grace/);
          assert.match(err.message, /'500ms'/);
          return true;
        },
      );
    }
    for (const bad of [-1, 1.5, Number.NaN, Infinity])
      assert.throws(() => parseDuration(bad, 'grace'), /Invalid grace/);
    assert.throws(() => parseDuration(null as unknown as string, 'grace'), /Invalid grace \(object\)/);
  });
});

describe('window assigners', () => {
  it('validate their parameters with messages that name the fix', () => {
    assert.throws(() => tumbling(0), /tumbling window size.*at least 1ms/);
    assert.throws(() => hopping('1m', '2m'), /advance must not exceed size.*tumbling\(size\)/);
    assert.throws(() => session('0s'), /session gap.*at least 1ms/);
    assert.throws(() => sliding('-1s'), /sliding window timeDifference/);
    assert.deepEqual(hopping('1m', '25s'), {
      kind: 'hopping',
      size: 60_000,
      advance: 25_000,
      describe: 'hopping(60000,25000)',
    });
    assert.equal(sliding('10s').size, 10_001);
  });

  it('fixed windows containing t: each contains t, starts are aligned, and none is missing', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 50 })
          .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 1, max: size }))),
        fc.integer({ min: -500, max: 500 }),
        ([size, advance], t) => {
          const windows = fixedWindowsContaining(hopping(size, advance), t);
          const expected: number[] = [];
          for (let s = -2000; s <= 2000; s++)
            if (s % advance === 0 && s <= t && t < s + size) expected.push(s);
          assert.deepEqual(
            windows.map((w) => w.start).sort((a, b) => a - b),
            expected,
          );
          for (const w of windows) assert.equal(w.end - w.start, size);
        },
      ),
    );
  });

  it('tumbling windows put every record in exactly one window; the end is exclusive', () => {
    const t = tumbling('1m');
    assert.deepEqual(fixedWindowsContaining(t, 59_999), [{ start: 0, end: 60_000 }]);
    assert.deepEqual(fixedWindowsContaining(t, 60_000), [{ start: 60_000, end: 120_000 }]);
  });
});
