import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { LoadableModel, ScorerOptions } from '../../operators/score/micro-batch-scorer.js';
import { MicroBatchScorer } from '../../operators/score/micro-batch-scorer.js';
import { allFinite } from '../../operators/score/feature-row.js';
import { InvalidRowError } from '../../operators/score/score-errors.js';
import type { ScoringSession } from '../../operators/score/session-factory.js';
import { ortSessionFactory } from '../../operators/score/session-factory.js';
import type { LogisticParams } from '../../services/trainer/onnx/logistic-regression-onnx.js';
import {
  buildLogisticRegressionOnnx,
  logisticForward,
} from '../../services/trainer/onnx/logistic-regression-onnx.js';
import { seededRandom } from '../../services/trainer/synthetic-data.js';

const FEATURES = ['f0', 'f1', 'f2'];
const quiet = { info() {}, warn() {}, error() {} };
const version = (v: string, weights: number[]): { params: LogisticParams; model: LoadableModel } => {
  const params = { featureNames: FEATURES, mean: [0, 0, 0], std: [1, 1, 1], weights, bias: -0.1 };
  return {
    params,
    model: {
      metadata: { name: 'lr', version: v, features: FEATURES, inputName: 'features', outputName: 'score' },
      bytes: buildLogisticRegressionOnnx(params),
    },
  };
};
const V1 = version('1', [0.9, -0.4, 0.2]);
const V2 = version('2', [-0.3, 0.7, 1.1]);

/** Real ORT sessions; records each run's batch size, and can hold the runs of one model's sessions. */
function gatedFactory(heldBytes?: Uint8Array) {
  const batchSizes: number[] = [];
  const real = ortSessionFactory();
  let gate: Promise<void> | undefined;
  let open = () => {};
  const factory = async (bytes: Uint8Array, provider: string): Promise<ScoringSession> => {
    const s = await real(bytes, provider);
    return {
      inputNames: s.inputNames,
      outputNames: s.outputNames,
      inputMetadata: s.inputMetadata,
      outputMetadata: s.outputMetadata,
      release: () => s.release(),
      run: (async (feeds: Parameters<ScoringSession['run']>[0], fetches: string[]) => {
        batchSizes.push(feeds.features!.dims[0]!);
        const out = await s.run(feeds, fetches);
        if (gate && bytes === heldBytes) await gate;
        return out;
      }) as ScoringSession['run'],
    };
  };
  return {
    factory,
    batchSizes,
    hold() {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

function flatRows(rand: () => number, rows: number): Float32Array {
  return Float32Array.from({ length: rows * FEATURES.length }, () => (rand() - 0.5) * 6);
}

const expected = (p: LogisticParams, values: Float32Array, row: number) =>
  logisticForward(p, values.subarray(row * FEATURES.length, (row + 1) * FEATURES.length));

async function makeScorer(model: LoadableModel, options: ScorerOptions) {
  return MicroBatchScorer.create(model, {
    preferredProviders: ['cpu'],
    logger: quiet,
    metricsRegistry: new Registry(),
    ...options,
  });
}

test('scoreFlat: calls of any size are split across batches of at most maxBatch and come back in row order', async () => {
  const registry = new Registry();
  const gated = gatedFactory();
  const scorer = await makeScorer(V1.model, {
    maxBatch: 16,
    maxDelayMs: 2,
    sessionFactory: gated.factory,
    metricsRegistry: registry,
  });
  gated.batchSizes.length = 0; // drop the load-time probe
  const rand = seededRandom(7);
  // Sizes around maxBatch: smaller, exactly one batch, and larger (a call spread over several batches).
  const sizes = Array.from({ length: 80 }, () => 1 + Math.floor(rand() * 40));
  const calls = sizes.map((n) => flatRows(rand, n));
  const results = await Promise.all(calls.map((v, c) => scorer.scoreFlat(v, sizes[c]!)));
  await scorer.close();

  const total = sizes.reduce((a, b) => a + b, 0);
  assert.ok(
    gated.batchSizes.every((n) => n >= 1 && n <= 16),
    `batch sizes ${gated.batchSizes}`,
  );
  assert.equal(
    gated.batchSizes.reduce((a, b) => a + b, 0),
    total,
    'every row scored exactly once',
  );
  calls.forEach((values, c) => {
    assert.equal(results[c]!.scores.length, sizes[c]);
    for (let i = 0; i < sizes[c]!; i++) {
      const want = expected(V1.params, values, i);
      assert.ok(Math.abs(results[c]!.scores[i]! - want) < 1e-5, `call ${c} row ${i}`);
      assert.equal(results[c]!.modelOf(i), 'lr@1');
    }
  });
  // Buffered batch observations are all there when the histogram is read.
  const hist = await registry.getSingleMetric('sluice_scorer_batch_size')!.get();
  const value = (name: string) =>
    hist.values.find((v) => (v as { metricName?: string }).metricName === name)!.value;
  assert.equal(value('sluice_scorer_batch_size_count'), gated.batchSizes.length);
  assert.equal(value('sluice_scorer_batch_size_sum'), total);
});

test('scoreFlat: a whole batch to an idle scorer runs at once, without waiting for maxDelayMs', async () => {
  const registry = new Registry();
  const scorer = await makeScorer(V1.model, { maxBatch: 32, maxDelayMs: 200, metricsRegistry: registry });
  const values = flatRows(seededRandom(1), 32);
  const started = performance.now();
  const scored = await scorer.scoreFlat(values, 32);
  const waited = performance.now() - started;
  assert.ok(waited < 150, `waited ${waited} ms`);
  for (let i = 0; i < 32; i++) {
    assert.ok(Math.abs(scored.scores[i]! - expected(V1.params, values, i)) < 1e-5, `row ${i}`);
  }
  assert.equal(scored.modelOf(31), 'lr@1');
  const hist = await registry.getSingleMetric('sluice_scorer_inference_seconds')!.get();
  const count = hist.values.find(
    (v) => (v as { metricName?: string }).metricName === 'sluice_scorer_inference_seconds_count',
  )!.value;
  assert.equal(count, 1);
  await scorer.close();
});

test('scoreFlat: a hot swap between the batches of one call is reported per row by modelOf', async () => {
  const gated = gatedFactory(V1.model.bytes);
  const scorer = await makeScorer(V1.model, { maxBatch: 4, maxDelayMs: 1, sessionFactory: gated.factory });
  gated.hold();
  const values = flatRows(seededRandom(5), 12);
  // The first 4 rows start on v1 at once and are held there; the other 8 wait for the run slot.
  const pending = scorer.scoreFlat(values, 12);
  await scorer.swap(V2.model); // v2 takes the queued rows while v1's batch is still running
  gated.release();
  const scored = await pending;
  await scorer.close();
  for (let i = 0; i < 12; i++) {
    const [model, params] = i < 4 ? ['lr@1', V1.params] : ['lr@2', V2.params];
    assert.equal(scored.modelOf(i), model, `row ${i}`);
    assert.ok(Math.abs(scored.scores[i]! - expected(params, values, i)) < 1e-5, `row ${i} score`);
  }
});

test('scoreFlat: bad input is refused with an error naming the row and feature', async () => {
  const scorer = await makeScorer(V1.model, { maxBatch: 8, maxDelayMs: 1 });
  await assert.rejects(
    scorer.scoreFlat(new Float32Array(7), 2),
    (e: unknown) =>
      e instanceof InvalidRowError && /7 values for 2 row\(s\).*takes 3 features/.test(e.message),
  );
  const values = flatRows(seededRandom(2), 3);
  values[2 * 3 + 1] = Number.NaN;
  await assert.rejects(scorer.scoreFlat(values, 3), /row 2: value of feature f1 is NaN/);
  values[2 * 3 + 1] = 0;
  values[0] = Number.NEGATIVE_INFINITY;
  await assert.rejects(scorer.scoreFlat(values, 3), /row 0: value of feature f0 is -Infinity/);
  await assert.rejects(scorer.scoreFlat(values, 1.5), /rows must be an integer >= 0/);
  await assert.rejects(
    scorer.scoreFlat([1, 2, 3] as unknown as Float32Array, 1),
    /values is not a Float32Array/,
  );
  assert.equal((await scorer.scoreFlat(new Float32Array(0), 0)).scores.length, 0);
  await scorer.close();
});

test('allFinite: finds NaN and ±Infinity anywhere, in batches larger than its first buffer, and ignores stale padding', () => {
  const big = flatRows(seededRandom(9), 7000); // 21,000 floats: more than one 64 KiB wasm page
  assert.equal(allFinite(big), true);
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    for (const at of [0, 1, 16383, 16384, big.length - 1]) {
      const v = big.slice();
      v[at] = bad;
      assert.equal(allFinite(v), false, `${bad} at ${at}`);
    }
  }
  assert.equal(allFinite(Float32Array.of(3.4e38, -3.4e38, 1e-45)), true, 'extremes are finite');
  // A NaN left in memory just past a shorter array (the lane padding) must not count.
  const v = big.slice(0, 8);
  v[5] = Number.NaN;
  assert.equal(allFinite(v), false);
  assert.equal(allFinite(big.slice(0, 5)), true);
  assert.equal(allFinite(new Float32Array(0)), true);
});
