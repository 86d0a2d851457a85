import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  buildLogisticRegressionOnnx,
  logisticForward,
} from '../../services/trainer/onnx/logistic-regression-onnx.js';
import type { LogisticParams } from '../../services/trainer/onnx/logistic-regression-onnx.js';
import { buildMlpOnnx, mlpForward, randomMlp } from '../../services/trainer/onnx/mlp-onnx.js';
import { decodeModelSummary, ONNX_IR_VERSION, ONNX_OPSET } from '../../services/trainer/onnx/onnx-proto.js';
import { METADATA_FEATURES_KEY } from '../../services/trainer/onnx/feature-metadata.js';
import { seededRandom } from '../../services/trainer/synthetic-data.js';

const FEATURES = ['txnCount1m', 'amountSum1m', 'amount', 'hourOfDay', 'isForeign'];

function randomRows(seed: number, rows: number, f: number): Float32Array {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: rows * f }, () => (rand() * 2 - 1) * 50);
}

async function runOnnx(bytes: Uint8Array, input: Float32Array, rows: number, f: number) {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
  });
  try {
    const out = await session.run({ features: new ort.Tensor('float32', input, [rows, f]) });
    assert.deepEqual(out.score!.dims, [rows, 1]);
    return out.score!.data as Float32Array;
  } finally {
    await session.release();
  }
}

test('logistic regression ONNX loads in ORT and matches the JS forward pass to 1e-5', async () => {
  const rand = seededRandom(7);
  const params: LogisticParams = {
    featureNames: FEATURES,
    mean: FEATURES.map(() => rand() * 10),
    std: FEATURES.map(() => 1 + rand() * 20),
    weights: FEATURES.map(() => rand() * 2 - 1),
    bias: -0.7,
  };
  const rows = 64;
  const input = randomRows(1, rows, FEATURES.length);
  const scores = await runOnnx(buildLogisticRegressionOnnx(params), input, rows, FEATURES.length);
  let spread = 0;
  for (let r = 0; r < rows; r++) {
    const expected = logisticForward(params, input.subarray(r * FEATURES.length, (r + 1) * FEATURES.length));
    assert.ok(Math.abs(scores[r]! - expected) < 1e-5, `row ${r}: onnx ${scores[r]} vs js ${expected}`);
    spread = Math.max(spread, Math.abs(expected - 0.5));
  }
  assert.ok(spread > 0.1, 'inputs must exercise the sigmoid away from 0.5, or the comparison proves little');
});

test('MLP ONNX (Gemm/Relu/Gemm/Sigmoid) loads in ORT and matches the JS forward pass to 1e-5', async () => {
  const params = randomMlp(11, FEATURES, 32);
  const rows = 64;
  const input = randomRows(2, rows, FEATURES.length);
  const bytes = buildMlpOnnx(params);
  const scores = await runOnnx(bytes, input, rows, FEATURES.length);
  for (let r = 0; r < rows; r++) {
    const expected = mlpForward(params, input.subarray(r * FEATURES.length, (r + 1) * FEATURES.length));
    assert.ok(Math.abs(scores[r]! - expected) < 1e-5, `row ${r}: onnx ${scores[r]} vs js ${expected}`);
  }
  assert.deepEqual(decodeModelSummary(bytes).opTypes, ['Sub', 'Div', 'Gemm', 'Relu', 'Gemm', 'Sigmoid']);
});

test('the model file carries IR/opset, the [N, F] signature and the ordered feature names', () => {
  const bytes = buildMlpOnnx(randomMlp(3, FEATURES, 4));
  const summary = decodeModelSummary(bytes);
  assert.equal(summary.irVersion, ONNX_IR_VERSION);
  assert.equal(summary.opset, ONNX_OPSET);
  assert.deepEqual(summary.inputs, [{ name: 'features', shape: ['N', FEATURES.length] }]);
  assert.deepEqual(summary.outputs, [{ name: 'score', shape: ['N', 1] }]);
  assert.deepEqual(JSON.parse(summary.metadata[METADATA_FEATURES_KEY]!), FEATURES);
});

test('builders refuse inconsistent parameters with a message naming the problem', () => {
  const ok: LogisticParams = {
    featureNames: ['a', 'b'],
    mean: [0, 0],
    std: [1, 1],
    weights: [1, 1],
    bias: 0,
  };
  assert.throws(
    () => buildLogisticRegressionOnnx({ ...ok, weights: [1] }),
    /weights has 1 values for 2 features/,
  );
  assert.throws(() => buildLogisticRegressionOnnx({ ...ok, std: [1, 0] }), /std of feature b must be > 0/);
  assert.throws(() => buildLogisticRegressionOnnx({ ...ok, featureNames: ['a', 'a'] }), /unique/);
  assert.throws(() => buildLogisticRegressionOnnx({ ...ok, bias: Number.NaN }), /non-finite/);
});
