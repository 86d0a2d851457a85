import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelLayouts } from '../../topologies/drift/bin-layout.js';
import {
  evaluateWindow,
  initialDriftState,
  type ModelDriftState,
} from '../../topologies/drift/drift-evaluation.js';
import { DriftConfigError, resolveDriftPolicy } from '../../topologies/drift/drift-policy.js';
import type { DriftHistogram } from '../../topologies/drift/histogram-aggregator.js';

const layouts = modelLayouts('m', '1', {
  features: {
    a: { kind: 'numeric', edges: [0], frequencies: [0.5, 0.5], count: 10, missingRate: 0 },
    b: { kind: 'numeric', edges: [0], frequencies: [0.5, 0.5], count: 10, missingRate: 0 },
  },
});
const policy = resolveDriftPolicy({ minSamples: 10, cooldown: '10m', missingRateThreshold: 0.5 });
const MIN = 60_000;

/** 100 samples; `a` split 30/70 (PSI 0.1695, below 0.2) or 10/90 (0.4*ln(5) + 0.4*ln(1.8) = 0.8789, above). */
const histogram = (aLow: number, bMissing = 0): DriftHistogram => ({
  n: 100,
  features: {
    a: { missing: 0, counts: [aLow, 100 - aLow] },
    b: { missing: bMissing, counts: [(100 - bMissing) / 2, (100 - bMissing) / 2] },
  },
  score: { missing: 0, counts: [] },
});
const win = (i: number, h: DriftHistogram) => ({ start: i * 5 * MIN, end: (i + 1) * 5 * MIN, value: h });

test('a window below the threshold: metrics per feature, no breach, no request', () => {
  const r = evaluateWindow(win(0, histogram(30)), layouts, policy, initialDriftState);
  assert.deepEqual(
    r.metrics.map((m) => `${m.feature}:${m.metric}`),
    ['a:PSI', 'a:MISSING_RATE', 'b:PSI', 'b:MISSING_RATE'],
  );
  const a = r.metrics[0]!;
  assert.ok(Math.abs(a.value - 0.16945957207744072) < 1e-9);
  assert.equal(a.threshold, 0.2);
  assert.equal(a.breached, false);
  assert.equal(a.sampleSize, 100);
  assert.equal(r.request, null);
});

test('a breach asks for retraining once, then the cool-down (event time) holds further requests', () => {
  let state: ModelDriftState = initialDriftState;
  const requests = [];
  for (let i = 0; i < 4; i++) {
    const r = evaluateWindow(win(i, histogram(10)), layouts, policy, state);
    state = r.state;
    assert.equal(r.metrics[0]!.breached, true);
    assert.equal(r.metrics[0]!.consecutiveBreaches, i + 1);
    if (r.request) requests.push(r.request);
  }
  // windows end at 5, 10, 15, 20 min; the cool-down is 10 min: requests at 5 and 15 min
  assert.deepEqual(
    requests.map((r) => r.requestedAt),
    [5 * MIN, 15 * MIN],
  );
  assert.deepEqual(
    requests[0]!.breaches.map((b) => [b.feature, b.metric, b.threshold]),
    [['a', 'PSI', 0.2]],
  );
  assert.equal(requests[0]!.trigger, 'DRIFT');
  assert.match(requests[0]!.reason, /a PSI 0\.879 > 0\.2/);
});

test('the same window and state give the same request id (replays are idempotent)', () => {
  const one = evaluateWindow(win(3, histogram(10)), layouts, policy, initialDriftState).request!;
  const two = evaluateWindow(
    win(3, histogram(10)),
    layouts,
    policy,
    JSON.parse(JSON.stringify(initialDriftState)),
  ).request!;
  assert.deepEqual(one, two);
  const other = evaluateWindow(win(4, histogram(10)), layouts, policy, initialDriftState).request!;
  assert.notEqual(other.requestId, one.requestId);
});

test('too few samples never breach', () => {
  const small = resolveDriftPolicy({ minSamples: 101 });
  const r = evaluateWindow(win(0, histogram(10)), layouts, small, initialDriftState);
  assert.equal(r.metrics[0]!.breached, false);
  assert.equal(r.request, null);
});

test('N consecutive windows: a gap between windows restarts the streak', () => {
  const three = resolveDriftPolicy({ minSamples: 10, consecutiveWindows: 2 });
  const first = evaluateWindow(win(0, histogram(10)), layouts, three, initialDriftState);
  assert.equal(first.request, null);
  const gap = evaluateWindow(win(2, histogram(10)), layouts, three, first.state);
  assert.equal(gap.metrics[0]!.consecutiveBreaches, 1);
  assert.equal(gap.request, null);
  const next = evaluateWindow(win(3, histogram(10)), layouts, three, gap.state);
  assert.equal(next.metrics[0]!.consecutiveBreaches, 2);
  assert.ok(next.request);
});

test('missing rate is reported per feature and breaches only with a threshold', () => {
  const r = evaluateWindow(win(0, histogram(30, 60)), layouts, policy, initialDriftState);
  const missing = r.metrics.find((m) => m.feature === 'b' && m.metric === 'MISSING_RATE')!;
  assert.equal(missing.value, 0.6);
  assert.equal(missing.breached, true);
  const psiB = r.metrics.find((m) => m.feature === 'b' && m.metric === 'PSI')!;
  assert.equal(psiB.sampleSize, 40);
  assert.deepEqual(
    r.request?.breaches.map((b) => `${b.feature}:${b.metric}`),
    ['b:MISSING_RATE'],
  );
  const none = evaluateWindow(
    win(0, histogram(30, 60)),
    layouts,
    resolveDriftPolicy({ minSamples: 10 }),
    initialDriftState,
  );
  assert.equal(none.metrics.find((m) => m.metric === 'MISSING_RATE' && m.feature === 'b')!.threshold, null);
  assert.equal(none.request, null);
});

test('a feature with every value missing has no PSI but a missing rate of 1', () => {
  const r = evaluateWindow(win(0, histogram(30, 100)), layouts, resolveDriftPolicy(), initialDriftState);
  assert.deepEqual(
    r.metrics.filter((m) => m.feature === 'b').map((m) => [m.metric, m.value]),
    [['MISSING_RATE', 1]],
  );
});

test('bad policy configuration fails fast with the fix', () => {
  assert.throws(() => resolveDriftPolicy({ psiThreshold: -1 }), DriftConfigError);
  assert.throws(() => resolveDriftPolicy({ cooldown: 'soon' }), /drift cooldown/);
  assert.throws(() => resolveDriftPolicy({ minSamples: 0 }), /minSamples/);
  assert.throws(() => resolveDriftPolicy({ missingRateThreshold: 2 }), /missingRateThreshold/);
  assert.equal(resolveDriftPolicy().psiThreshold, 0.2);
});
