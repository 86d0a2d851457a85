import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import { ModelChecksumError } from '../../connectors/model-registry/registry-errors.js';
import { toFeatureRow } from '../../operators/score/feature-row.js';
import type { LoadableModel } from '../../operators/score/micro-batch-scorer.js';
import { MicroBatchScorer } from '../../operators/score/micro-batch-scorer.js';
import { MissingFeatureError, ModelValidationError } from '../../operators/score/score-errors.js';
import type { ModelValidationCode } from '../../operators/score/score-errors.js';
import { buildReferenceModel } from '../../services/trainer/build-reference-model.js';
import {
  buildLogisticRegressionOnnx,
  logisticForward,
} from '../../services/trainer/onnx/logistic-regression-onnx.js';

const quiet = { info() {}, warn() {}, error() {} };
const FEATURES = ['a', 'b', 'c'];
const params = (names: string[], w: number) => ({
  featureNames: names,
  mean: names.map(() => 0),
  std: names.map(() => 1),
  weights: names.map(() => w),
  bias: 0,
});
const model = (
  version: string,
  bytes: Uint8Array,
  over: Partial<LoadableModel['metadata']> = {},
): LoadableModel => ({
  metadata: { name: 'lr', version, features: FEATURES, inputName: 'features', outputName: 'score', ...over },
  bytes,
});
const V1 = model('1', buildLogisticRegressionOnnx(params(FEATURES, 0.5)));
const ROW = Float32Array.of(1, 2, 3);
const V1_SCORE = logisticForward(params(FEATURES, 0.5), ROW);

const refusedWith = (code: ModelValidationCode, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ModelValidationError, `expected ModelValidationError, got ${e}`);
  assert.equal(e.code, code);
  assert.match(e.message, pattern);
  return true;
};

test('refused models leave the serving model in place', async (t) => {
  const registry = new Registry();
  const scorer = await MicroBatchScorer.create(V1, {
    preferredProviders: ['cuda', 'cpu'],
    logger: quiet,
    metricsRegistry: registry,
  });
  t.after(() => scorer.close());
  const stillServing = async () => {
    const [r] = await scorer.score([ROW]);
    assert.equal(r!.model, 'lr@1');
    assert.ok(Math.abs(r!.score - V1_SCORE) < 1e-6);
  };

  const corrupt = Buffer.from(V1.bytes.subarray(0, 40));
  await assert.rejects(
    scorer.swap(model('2', corrupt)),
    refusedWith('CORRUPT_MODEL', /not a loadable ONNX file/),
  );
  await stillServing();

  const fourFeatures = buildLogisticRegressionOnnx(params(['a', 'b', 'c', 'd'], 1));
  await assert.rejects(
    scorer.swap(model('3', fourFeatures)),
    refusedWith(
      'SHAPE_MISMATCH',
      /shape \[N, 4\] but metadata lists 3 feature\(s\) \(a, b, c\); expected \[N, 3\]/,
    ),
  );
  await stillServing();

  await assert.rejects(
    scorer.swap(model('4', V1.bytes, { inputName: 'x' })),
    refusedWith('INPUT_MISMATCH', /declares input "x" but the ONNX graph has input\(s\) features/),
  );
  await assert.rejects(
    scorer.swap(model('5', V1.bytes, { outputName: 'prob' })),
    refusedWith('OUTPUT_MISMATCH', /declares output "prob"/),
  );
  await assert.rejects(
    scorer.swap(model('6', V1.bytes, { features: ['a', 'b', 'z'] })),
    refusedWith('FEATURES_CHANGED', /create a new scorer/),
  );
  await stillServing();

  const swaps = await registry.getSingleMetric('sluice_scorer_model_swaps_total')!.get();
  assert.equal(swaps.values.find((v) => v.labels.result === 'refused')?.value, 5);
});

test('a model needing features the feature view lacks is refused at load, naming them', async () => {
  await assert.rejects(
    MicroBatchScorer.create(V1, {
      preferredProviders: ['cpu'],
      logger: quiet,
      metricsRegistry: new Registry(),
      availableFeatures: ['a', 'c'],
    }),
    refusedWith('MISSING_FEATURES', /needs feature\(s\) b that the feature view does not provide/),
  );
});

test('a record missing feature values gets an error naming every missing one', () => {
  assert.deepEqual(toFeatureRow({ c: 3, a: 1, b: 2, extra: 9 }, FEATURES), ROW);
  assert.throws(
    () => toFeatureRow({ a: 1, b: null, d: 4 }, FEATURES),
    (e: unknown) => e instanceof MissingFeatureError && e.missing.join() === 'b,c',
  );
});

test('a registry checksum failure never reaches the scorer, which keeps serving', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sluice-score-validation-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const built = await buildReferenceModel({ outDir: path.join(root, 'out'), rows: 1000, seed: 2 });
  const registry = new FileModelRegistry({ root: path.join(root, 'models') });
  const bytes = await readFile(built.modelPath);
  await registry.register(built.candidate, bytes, { stage: 'champion' });
  await registry.register({ ...built.candidate, version: '2' }, bytes);
  const scorer = await MicroBatchScorer.create(await registry.loadVerified('txn-risk', '1'), {
    preferredProviders: ['cpu'],
    logger: quiet,
    metricsRegistry: new Registry(),
  });
  t.after(() => scorer.close());
  const tampered = Buffer.from(bytes);
  tampered[100]! ^= 0x01;
  await writeFile(path.join(registry.root, 'txn-risk', '2', 'model.onnx'), tampered);
  await assert.rejects(
    (async () => scorer.swap(await registry.loadVerified('txn-risk', '2')))(),
    (e: unknown) => e instanceof ModelChecksumError,
  );
  const [r] = await scorer.score([new Float32Array(built.candidate.features.length).fill(1)]);
  assert.equal(r!.model, 'txn-risk@1');
});
