import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildReferenceModel, sha256Hex } from '../../services/trainer/build-reference-model.js';
import {
  evaluateClassifier,
  predictAll,
  rocAuc,
  trainLogisticRegression,
} from '../../services/trainer/logistic-regression.js';
import { numericProfile } from '../../services/trainer/reference-profile.js';
import { generateTxnRiskData, splitHoldout } from '../../services/trainer/synthetic-data.js';

test('rocAuc follows the rank definition, including ties', () => {
  assert.equal(rocAuc([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]), 1);
  assert.equal(rocAuc([0.4, 0.3, 0.2, 0.1], [0, 0, 1, 1]), 0);
  // one positive/negative tie counts half: pairs (p=.5 vs n=.5) 0.5, (p=.5 vs n=.1) 1 -> 1.5 / 2
  assert.equal(rocAuc([0.5, 0.5, 0.1], [1, 0, 0]), 0.75);
});

test('synthetic data is deterministic per seed and differs across seeds', () => {
  const a = generateTxnRiskData({ rows: 500, seed: 9 });
  const b = generateTxnRiskData({ rows: 500, seed: 9 });
  const c = generateTxnRiskData({ rows: 500, seed: 10 });
  assert.deepEqual(a.x, b.x);
  assert.deepEqual(a.y, b.y);
  assert.notDeepEqual(a.x, c.x);
});

test('logistic regression trained on synthetic data beats AUC 0.8 on the holdout and a constant model', () => {
  const { train, holdout } = splitHoldout(generateTxnRiskData({ rows: 8000, seed: 123 }), 0.25);
  const params = trainLogisticRegression(train, { epochs: 300 });
  const metrics = evaluateClassifier(predictAll(params, holdout), holdout.y);
  assert.ok(metrics.auc > 0.8, `holdout AUC ${metrics.auc}`);
  const base = metrics.positiveRate;
  const constantLoss = -(base * Math.log(base) + (1 - base) * Math.log(1 - base));
  assert.ok(metrics.logLoss < constantLoss, `log loss ${metrics.logLoss} vs constant ${constantLoss}`);
  // Same data, same weights: training is deterministic.
  assert.deepEqual(trainLogisticRegression(train, { epochs: 300 }).weights, params.weights);
});

test('numeric reference profile: decile bins hold ~10% each, ties collapse bins, NaN counts as missing', () => {
  const uniform = Float64Array.from({ length: 1000 }, (_, i) => i);
  const p = numericProfile(uniform);
  assert.equal(p.edges.length, 9);
  for (const f of p.frequencies) assert.ok(Math.abs(f - 0.1) <= 0.002, `bin frequency ${f}`);
  const small = numericProfile([0, 0, 0, 0, 1, 1, 2, Number.NaN]);
  assert.deepEqual(small.edges, [0, 1]);
  assert.equal(small.missingRate, 1 / 8);
  assert.ok(Math.abs(small.frequencies.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test('build-reference-model writes a loadable model whose metadata matches the file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-refmodel-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const built = await buildReferenceModel({ outDir: dir, rows: 4000, seed: 5 });
  const bytes = await readFile(built.modelPath);
  const metadata = JSON.parse(await readFile(built.metadataPath, 'utf8'));
  assert.equal(metadata.sha256, sha256Hex(bytes));
  assert.ok(metadata.trainingMetrics.holdoutAuc > 0.8, `holdout AUC ${metadata.trainingMetrics.holdoutAuc}`);
  assert.deepEqual(Object.keys(metadata.referenceProfile.features), metadata.features);
  assert.equal(metadata.referenceProfile.features.isForeign.kind, 'categorical');
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
  });
  try {
    assert.deepEqual(session.inputNames, [metadata.inputName]);
    assert.deepEqual(session.outputNames, [metadata.outputName]);
  } finally {
    await session.release();
  }
  const again = await buildReferenceModel({ outDir: path.join(dir, 'again'), rows: 4000, seed: 5 });
  assert.equal(again.candidate.sha256, metadata.sha256, 'same seed must give a byte-identical model');
});
