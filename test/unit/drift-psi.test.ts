import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PSI_EPSILON, DriftMathError, missingRate, psi } from '../../topologies/drift/psi.js';

const close = (actual: number | null, expected: number, tol = 1e-9) =>
  assert.ok(
    actual !== null && Math.abs(actual - expected) < tol,
    `${actual} is not within ${tol} of ${expected}`,
  );

test('PSI of two bins matches the hand-computed value', () => {
  // live 0.3 / 0.7 vs reference 0.5 / 0.5:
  // (0.3-0.5)*ln(0.3/0.5) + (0.7-0.5)*ln(0.7/0.5) = 0.2*0.5108256 + 0.2*0.3364722 = 0.1694596
  close(psi([0.5, 0.5], [30, 70]), 0.16945957207744072);
});

test('PSI only depends on proportions, not on the sample size', () => {
  close(psi([0.5, 0.5], [3, 7]), 0.16945957207744072);
});

test('an empty live bin is floored at epsilon instead of making PSI infinite', () => {
  // a = [1e-4, 0.5, 0.5] vs e = [0.25, 0.25, 0.5]:
  // (1e-4-0.25)*ln(1e-4/0.25) + 0.25*ln(2) + 0 = 0.2499*7.8240460 + 0.1732868 = 2.1285159
  close(psi([0.25, 0.25, 0.5], [0, 50, 50]), 2.1285158932529735);
});

test('a live value in a bin the reference never saw counts as a large shift', () => {
  // a = [0.5, 0.5, 1e-4] vs e = [0.2, 0.3, 0.5]:
  // 0.3*ln(2.5) + 0.2*ln(5/3) + (1e-4-0.5)*ln(2e-4) = 0.2748872 + 0.1021651 + 4.2577449 = 4.6347972
  close(psi([0.2, 0.3, 0.5], [10, 10, 0]), 4.634797220704422);
  // the reverse: a reference bin of 0 (e.g. an unseen category) with live mass is finite too
  const v = psi([0.5, 0.5, 0], [40, 40, 20]);
  assert.ok(v !== null && Number.isFinite(v) && v > 0.2, `got ${v}`);
});

test('identical distributions have PSI 0 and a larger epsilon changes empty-bin results', () => {
  close(psi([0.1, 0.2, 0.7], [10, 20, 70]), 0);
  const small = psi([0.25, 0.25, 0.5], [0, 50, 50], DEFAULT_PSI_EPSILON)!;
  const large = psi([0.25, 0.25, 0.5], [0, 50, 50], 1e-2)!;
  assert.ok(large < small, `epsilon 1e-2 gave ${large}, 1e-4 gave ${small}`);
});

test('an empty live histogram has no PSI', () => {
  assert.equal(psi([0.5, 0.5], [0, 0]), null);
});

test('bad input is a clear error', () => {
  assert.throws(() => psi([0.5, 0.5], [1, 2, 3]), DriftMathError);
  assert.throws(() => psi([0.5, 0.5], [1, -2]), /counts must be >= 0/);
  assert.throws(() => psi([0.5, 0.5], [1, 2], 0), /epsilon/);
});

test('missing rate', () => {
  assert.equal(missingRate(25, 100), 0.25);
  assert.equal(missingRate(0, 0), 0);
  assert.throws(() => missingRate(5, 4), DriftMathError);
});
