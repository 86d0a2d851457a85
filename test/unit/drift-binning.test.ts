import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReferenceProfile } from '../../connectors/model-registry/model-metadata.js';
import type { Prediction } from '../../connectors/experiments/prediction.js';
import {
  layoutOf,
  MISSING_BIN,
  modelLayouts,
  ProfileLayoutError,
} from '../../topologies/drift/bin-layout.js';
import { driftSampleDecoder, parseModelKey, toDriftSample } from '../../topologies/drift/drift-sample.js';
import { driftHistogram } from '../../topologies/drift/histogram-aggregator.js';

const numeric = {
  kind: 'numeric',
  edges: [1, 5, 10],
  frequencies: [0.1, 0.4, 0.3, 0.2],
  count: 100,
  missingRate: 0.05,
} as const;
const categorical = {
  kind: 'categorical',
  frequencies: { '1': 0.12, '0': 0.88 },
  count: 100,
  missingRate: 0,
} as const;

test('numeric values bin on the profile edges: edges[i-1] < v <= edges[i], open-ended outer bins', () => {
  const layout = layoutOf('t', {
    ...numeric,
    edges: [...numeric.edges],
    frequencies: [...numeric.frequencies],
  });
  const bins = [-100, 1, 1.0001, 5, 5.5, 10, 10.0001, 1e9].map((v) => layout.bin(v));
  assert.deepEqual(bins, [0, 0, 1, 1, 2, 2, 3, 3]);
  assert.deepEqual(layout.expected, [0.1, 0.4, 0.3, 0.2]);
});

test('missing values: absent, null, NaN and infinities all go to the missing bin', () => {
  const layout = layoutOf('t', {
    ...numeric,
    edges: [...numeric.edges],
    frequencies: [...numeric.frequencies],
  });
  for (const v of [null, undefined, Number.NaN, Infinity, -Infinity, '3'])
    assert.equal(layout.bin(v), MISSING_BIN);
});

test('categorical values bin by sorted category, unseen ones into a trailing bin with reference share 0', () => {
  const layout = layoutOf('t', { ...categorical, frequencies: { ...categorical.frequencies } });
  assert.deepEqual(layout.expected, [0.88, 0.12, 0]);
  assert.deepEqual(
    [0, 1, 2, 7].map((v) => layout.bin(v)),
    [0, 1, 2, 2],
  );
});

test('a profile whose frequencies do not match its edges is refused with the fix', () => {
  assert.throws(
    () =>
      layoutOf('x', { kind: 'numeric', edges: [1, 2], frequencies: [0.5, 0.5], count: 1, missingRate: 0 }),
    (err: Error) => err instanceof ProfileLayoutError && /re-register/.test(err.message),
  );
});

const profile: ReferenceProfile = {
  features: {
    amount: { ...numeric, edges: [...numeric.edges], frequencies: [...numeric.frequencies] },
    isForeign: { ...categorical, frequencies: { ...categorical.frequencies } },
  },
  prediction: { kind: 'numeric', edges: [0.5], frequencies: [0.9, 0.1], count: 100, missingRate: 0 },
};

const prediction = (features: Record<string, number>, score = 0.2): Prediction => ({
  predictionId: 'p',
  entity: 'e',
  eventId: 'x',
  eventTime: 1_000,
  model: 'm',
  modelVersion: '3',
  variant: 'a',
  experiment: null,
  experimentVersion: null,
  shadow: false,
  score,
  latencyMs: 1,
  features,
  sourceTopic: 't',
  sourcePartition: 0,
  sourceOffset: 0,
});

test('a prediction becomes a sample with one bin per profiled feature; absent features are missing', () => {
  const layouts = modelLayouts('m', '3', profile);
  const sample = toDriftSample(prediction({ amount: 7, extra: 1 }, 0.8), layouts);
  assert.deepEqual(sample, {
    model: 'm',
    modelVersion: '3',
    eventTime: 1_000,
    bins: { amount: 2, isForeign: MISSING_BIN },
    score: 1,
  });
  // round trip through the samples topic
  assert.deepEqual(driftSampleDecoder.deserialize(Buffer.from(JSON.stringify(sample))), sample);
  assert.throws(() => driftSampleDecoder.deserialize(Buffer.from('{"model":"m"}')), /lacks/);
});

test('the histogram aggregate counts bins and missing values per feature, and merges', () => {
  const layouts = modelLayouts('m', '3', profile);
  const agg = driftHistogram();
  const stamp = { eventTime: 0, seq: 0 };
  let a = agg.init();
  for (const f of [{ amount: 0 }, { amount: 12 }, { amount: 12, isForeign: 1 }, {}] as Record<
    string,
    number
  >[]) {
    a = agg.add(a, agg.prepare(toDriftSample(prediction(f), layouts)), stamp);
  }
  let b = agg.init();
  b = agg.add(b, agg.prepare(toDriftSample(prediction({ amount: 3, isForeign: 0 }), layouts)), stamp);
  // state must survive a JSON round trip (it lives in a changelog)
  const merged = agg.result(agg.merge(JSON.parse(JSON.stringify(a)), b));
  assert.equal(merged.n, 5);
  assert.deepEqual(merged.features.amount, { missing: 1, counts: [1, 1, 0, 2] });
  assert.deepEqual(merged.features.isForeign, { missing: 3, counts: [1, 1] });
  assert.deepEqual(merged.score, { missing: 0, counts: [5] });
});

test('model keys', () => {
  assert.deepEqual(parseModelKey('txn-risk@2'), { model: 'txn-risk', modelVersion: '2' });
  assert.throws(() => parseModelKey('nope'), /model@version/);
});
