import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { LoadableModel, ScorerOptions } from '../../operators/score/micro-batch-scorer.js';
import { MicroBatchScorer } from '../../operators/score/micro-batch-scorer.js';
import { InvalidRowError, ScorerClosedError } from '../../operators/score/score-errors.js';
import type { ScoringSession } from '../../operators/score/session-factory.js';
import { ortSessionFactory } from '../../operators/score/session-factory.js';
import type { LogisticParams } from '../../services/trainer/onnx/logistic-regression-onnx.js';
import {
  buildLogisticRegressionOnnx,
  logisticForward,
} from '../../services/trainer/onnx/logistic-regression-onnx.js';
import { seededRandom } from '../../services/trainer/synthetic-data.js';

const FEATURES = ['f0', 'f1', 'f2', 'f3'];
const PARAMS: LogisticParams = {
  featureNames: FEATURES,
  mean: [1, 2, 3, 4],
  std: [2, 3, 4, 5],
  weights: [0.8, -0.5, 0.3, 1.1],
  bias: -0.2,
};
const MODEL: LoadableModel = {
  metadata: { name: 'lr', version: '1', features: FEATURES, inputName: 'features', outputName: 'score' },
  bytes: buildLogisticRegressionOnnx(PARAMS),
};
const quiet = { info() {}, warn() {}, error() {} };

/** Real ORT sessions, with each run's batch size recorded (recording starts after the load-time probe). */
function recordingFactory() {
  const batchSizes: number[] = [];
  const real = ortSessionFactory();
  let recording = false;
  const factory = async (bytes: Uint8Array, provider: string): Promise<ScoringSession> => {
    const s = await real(bytes, provider);
    return {
      inputNames: s.inputNames,
      outputNames: s.outputNames,
      inputMetadata: s.inputMetadata,
      outputMetadata: s.outputMetadata,
      release: () => s.release(),
      run: ((feeds: Parameters<ScoringSession['run']>[0], fetches: string[]) => {
        if (recording) batchSizes.push(feeds.features!.dims[0]!);
        return s.run(feeds, fetches);
      }) as ScoringSession['run'],
    };
  };
  return { factory, batchSizes, start: () => void (recording = true) };
}

function randomRows(rand: () => number, n: number): Float32Array[] {
  return Array.from({ length: n }, () => Float32Array.from(FEATURES, () => (rand() - 0.5) * 20));
}

async function makeScorer(options: ScorerOptions) {
  return MicroBatchScorer.create(MODEL, {
    preferredProviders: ['cpu'],
    logger: quiet,
    metricsRegistry: new Registry(),
    ...options,
  });
}

test('many concurrent callers: batches never exceed maxBatch, one run per batch, each caller gets its rows in order', async () => {
  const rec = recordingFactory();
  const registry = new Registry();
  const scorer = await makeScorer({
    maxBatch: 16,
    maxDelayMs: 2,
    sessionFactory: rec.factory,
    metricsRegistry: registry,
  });
  rec.start();
  const rand = seededRandom(42);
  const calls = Array.from({ length: 300 }, () => randomRows(rand, 1 + Math.floor(rand() * 5)));
  const results = await Promise.all(calls.map((rows) => scorer.score(rows)));
  await scorer.close();

  const totalRows = calls.reduce((n, rows) => n + rows.length, 0);
  assert.ok(
    rec.batchSizes.every((n) => n >= 1 && n <= 16),
    `batch sizes ${rec.batchSizes}`,
  );
  assert.equal(
    rec.batchSizes.reduce((a, b) => a + b, 0),
    totalRows,
    'every row scored exactly once',
  );
  assert.ok(
    rec.batchSizes.length < calls.length / 2,
    `${rec.batchSizes.length} runs for ${calls.length} calls: no coalescing`,
  );
  calls.forEach((rows, c) => {
    assert.equal(results[c]!.length, rows.length);
    rows.forEach((row, i) => {
      const expected = logisticForward(PARAMS, row);
      assert.ok(
        Math.abs(results[c]![i]!.score - expected) < 1e-5,
        `call ${c} row ${i}: ${results[c]![i]!.score} vs ${expected}`,
      );
      assert.equal(results[c]![i]!.model, 'lr@1');
    });
  });
  const hist = await registry.getSingleMetric('sluice_scorer_batch_size')!.get();
  const count = hist.values.find(
    (v) => (v as { metricName?: string }).metricName === 'sluice_scorer_batch_size_count',
  )!.value;
  const sum = hist.values.find(
    (v) => (v as { metricName?: string }).metricName === 'sluice_scorer_batch_size_sum',
  )!.value;
  assert.equal(count, rec.batchSizes.length);
  assert.equal(sum, totalRows);
});

test('a lone row is flushed after maxDelayMs even though the batch is not full', async () => {
  const rec = recordingFactory();
  const scorer = await makeScorer({ maxBatch: 64, maxDelayMs: 30, sessionFactory: rec.factory });
  rec.start();
  const started = performance.now();
  const [r] = await scorer.score([Float32Array.of(1, 2, 3, 4)]);
  const waited = performance.now() - started;
  await scorer.close();
  assert.ok(waited >= 25, `flushed after ${waited} ms, before the delay`);
  assert.deepEqual(rec.batchSizes, [1]);
  assert.ok(Math.abs(r!.score - logisticForward(PARAMS, [1, 2, 3, 4])) < 1e-6);
});

test('the queue is bounded: callers beyond maxQueueRows wait, then all complete in order', async () => {
  const rec = recordingFactory();
  const scorer = await makeScorer({
    maxBatch: 8,
    maxDelayMs: 1,
    maxQueueRows: 16,
    sessionFactory: rec.factory,
  });
  rec.start();
  const rand = seededRandom(3);
  const calls = Array.from({ length: 60 }, () => randomRows(rand, 4));
  const pending: Promise<unknown>[] = [];
  let maxQueued = 0;
  for (const rows of calls) {
    pending.push(scorer.score(rows));
    maxQueued = Math.max(maxQueued, scorer.queuedRows);
  }
  assert.ok(maxQueued <= 16, `queue held ${maxQueued} rows`);
  const results = (await Promise.all(pending)) as { score: number }[][];
  await scorer.close();
  calls.forEach((rows, c) =>
    rows.forEach((row, i) =>
      assert.ok(Math.abs(results[c]![i]!.score - logisticForward(PARAMS, row)) < 1e-5),
    ),
  );
  assert.equal(
    rec.batchSizes.reduce((a, b) => a + b, 0),
    240,
  );
});

test('bad rows are refused per call with a clear error; other callers are unaffected; closed scorer refuses', async () => {
  const scorer = await makeScorer({ maxBatch: 4, maxDelayMs: 1 });
  const good = scorer.score([Float32Array.of(0, 0, 0, 0)]);
  await assert.rejects(scorer.score([Float32Array.of(1, 2, 3)]), (e: unknown) => {
    return (
      e instanceof InvalidRowError && /row 0: has 3 values but model lr@1 takes 4 features/.test(e.message)
    );
  });
  await assert.rejects(scorer.score([Float32Array.of(1, Number.NaN, 3, 4)]), /feature f1 is NaN/);
  assert.equal((await good).length, 1);
  await scorer.close();
  await assert.rejects(scorer.score([Float32Array.of(0, 0, 0, 0)]), ScorerClosedError);
});

test('option errors fail fast with the fix in the message', async () => {
  await assert.rejects(makeScorer({ maxBatch: 0 }), /maxBatch must be an integer >= 1/);
  await assert.rejects(
    makeScorer({ maxBatch: 8, maxQueueRows: 4 }),
    /maxQueueRows must be an integer >= maxBatch/,
  );
});
