/**
 * The score stage checks every feature value as it writes the model input (the scorer then skips its own
 * scan): a missing or NaN feature and a value no float32 holds are dead-lettered with their reason, the
 * rest of the batch is scored by the real model, and the scores equal the model's own forward pass.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { from, lastValueFrom, toArray } from 'rxjs';
import type { ExperimentConfig } from '../../connectors/experiments/index.js';
import type { Enriched } from '../../operators/enrich/enrich.js';
import { createRouter } from '../../operators/route/router.js';
import { MicroBatchScorer } from '../../operators/score/micro-batch-scorer.js';
import { score } from '../../operators/score/score-stage.js';
import type { DeadLetterReason, Element, PartitionContext, RawRecord } from '../../schemas/stream.js';
import {
  buildLogisticRegressionOnnx,
  logisticForward,
  type LogisticParams,
} from '../../services/trainer/onnx/logistic-regression-onnx.js';

const FEATURES = ['amount', 'count'];
const PARAMS: LogisticParams = {
  featureNames: FEATURES,
  mean: [50, 2],
  std: [20, 1],
  weights: [0.9, -0.4],
  bias: -1,
};
const experiment: ExperimentConfig = {
  name: 'exp',
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  salt: 's',
  variants: [{ name: 'A', model: 'lr', weight: 1 }],
  shadows: [],
};

test('bad feature values are dead-lettered with their reason; the others are scored as the model computes them', async () => {
  const scorer = await MicroBatchScorer.create(
    {
      metadata: { name: 'lr', version: '1', features: FEATURES, inputName: 'features', outputName: 'score' },
      bytes: buildLogisticRegressionOnnx(PARAMS),
    },
    {
      preferredProviders: ['cpu'],
      logger: { info() {}, warn() {}, error() {} },
      metricsRegistry: new Registry(),
    },
  );
  // Code around the behaviour: a partition context that records dead letters.
  const deadLetters: [RawRecord, DeadLetterReason][] = [];
  const ctx = {
    topology: 't',
    topic: 'txn',
    partition: 0,
    store: () => {
      throw new Error('no state here');
    },
    captureState: () => undefined,
    side: {
      deadLetter: (raw: RawRecord, reason: DeadLetterReason) => deadLetters.push([raw, reason]),
      late: () => {},
    },
    raw: () => undefined,
  } as unknown as PartitionContext;
  const rows: Record<string, number>[] = [
    { amount: 70, count: 1 },
    { amount: Number.NaN, count: 1 },
    { amount: 1e39, count: 2 },
    { count: 3 },
    { amount: 10, count: 5 },
  ];
  const input: Element<Enriched<{ id: string }>>[] = rows.map((features, i) => ({
    kind: 'record',
    key: `card-${i}`,
    eventTime: 1_000 + i,
    value: { event: { id: `e${i}` }, entity: `card-${i}`, features, defaulted: [] },
    source: { topic: 'txn', partition: 0, offset: String(i), timestamp: 1_000 + i },
    headers: {},
  }));
  const stage = score<{ id: string }>({
    router: createRouter(experiment),
    slots: { scorer: () => scorer, features: () => FEATURES },
    eventId: (e) => e.id,
  });
  const out = await lastValueFrom(from(input).pipe(stage(ctx), toArray()));
  await scorer.close();

  const predictions = out.flatMap((e) => (e.kind === 'record' ? [e.value] : []));
  assert.deepEqual(
    predictions.map((p) => p.eventId),
    ['e0', 'e4'],
  );
  for (const p of predictions) {
    const expected = logisticForward(
      PARAMS,
      FEATURES.map((f) => p.features[f]!),
    );
    assert.ok(Math.abs(p.score - expected) < 1e-5, `${p.eventId}: ${p.score} vs ${expected}`);
  }
  const reasons = deadLetters.map(([raw, r]) => [raw.source.offset, r.code, r.message]);
  assert.equal(reasons.length, 3);
  assert.deepEqual(reasons[0]?.slice(0, 2), ['1', 'MISSING_FEATURE']);
  assert.match(String(reasons[0]?.[2]), /amount/);
  assert.deepEqual(reasons[1]?.slice(0, 2), ['2', 'INVALID_FEATURE_VALUE']);
  assert.match(String(reasons[1]?.[2]), /amount is 1e\+39, outside the float32 range/);
  assert.deepEqual(reasons[2]?.slice(0, 2), ['3', 'MISSING_FEATURE']);
});
