import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { LoadableModel } from '../../operators/score/micro-batch-scorer.js';
import { MicroBatchScorer } from '../../operators/score/micro-batch-scorer.js';
import { ModelValidationError } from '../../operators/score/score-errors.js';
import { buildMlpOnnx, mlpForward, randomMlp } from '../../services/trainer/onnx/mlp-onnx.js';
import { seededRandom } from '../../services/trainer/synthetic-data.js';

const quiet = { info() {}, warn() {}, error() {} };
const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'];
const MLP = randomMlp(17, FEATURES, 64);
const MODEL: LoadableModel = {
  metadata: { name: 'mlp', version: '1', features: FEATURES, inputName: 'features', outputName: 'score' },
  bytes: buildMlpOnnx(MLP),
};

test('the worker pool gives the same scores as inline scoring, in order, for concurrent callers', async (t) => {
  const common = { maxBatch: 32, maxDelayMs: 2, preferredProviders: ['cuda', 'cpu'], logger: quiet } as const;
  const inline = await MicroBatchScorer.create(MODEL, { ...common, metricsRegistry: new Registry() });
  t.after(() => inline.close());
  const pool = await MicroBatchScorer.create(MODEL, {
    ...common,
    backend: 'worker-pool',
    workers: 2,
    metricsRegistry: new Registry(),
  });
  t.after(() => pool.close());
  assert.equal(pool.provider, 'cpu');
  assert.equal(pool.attempts[0]?.provider, 'cuda', 'the pool also tried cuda first');

  const rand = seededRandom(5);
  const calls = Array.from({ length: 120 }, () =>
    Array.from({ length: 1 + Math.floor(rand() * 6) }, () =>
      Float32Array.from(FEATURES, () => (rand() - 0.5) * 6),
    ),
  );
  // Copies for the pool: rows handed to a scorer belong to it until the call resolves.
  const [a, b] = await Promise.all([
    Promise.all(calls.map((rows) => inline.score(rows))),
    Promise.all(calls.map((rows) => pool.score(rows.map((r) => r.slice())))),
  ]);
  calls.forEach((rows, c) =>
    rows.forEach((row, i) => {
      assert.ok(Math.abs(b[c]![i]!.score - a[c]![i]!.score) < 1e-6, `call ${c} row ${i}`);
      assert.ok(Math.abs(a[c]![i]!.score - mlpForward(MLP, row)) < 1e-5);
    }),
  );
});

test('a worker pool refuses an invalid model with the same typed error as inline', async () => {
  await assert.rejects(
    MicroBatchScorer.create(
      { ...MODEL, metadata: { ...MODEL.metadata, features: FEATURES.slice(1) } },
      {
        backend: 'worker-pool',
        workers: 1,
        preferredProviders: ['cpu'],
        logger: quiet,
        metricsRegistry: new Registry(),
      },
    ),
    (e: unknown) => e instanceof ModelValidationError && e.code === 'SHAPE_MISMATCH',
  );
});
