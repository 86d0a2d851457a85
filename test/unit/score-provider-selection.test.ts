import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import {
  NoExecutionProviderError,
  selectExecutionProvider,
} from '../../operators/score/execution-provider.js';
import { MicroBatchScorer } from '../../operators/score/micro-batch-scorer.js';
import { buildLogisticRegressionOnnx } from '../../services/trainer/onnx/logistic-regression-onnx.js';

const FEATURES = ['a', 'b', 'c'];
const lrBytes = () =>
  buildLogisticRegressionOnnx({
    featureNames: FEATURES,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    weights: [1, -1, 0.5],
    bias: 0,
  });

// Selection logic with stand-in sessions: the factory and probe are the code *around* the logic under test.
test('selection tries providers in order and records why each one was skipped', async () => {
  const released: string[] = [];
  const selection = await selectExecutionProvider<{ provider: string }>({
    preferred: ['tensorrt', 'cuda', 'cpu'],
    modelBytes: new Uint8Array(),
    sessionFactory: async (_bytes, provider) => {
      if (provider === 'tensorrt')
        throw new Error('libnvinfer.so: cannot open shared object file\nmore detail');
      return { provider };
    },
    probe: async (s) => {
      if (s.provider === 'cuda') throw new Error('CUDA error: no kernel image is available');
    },
    release: async (s) => void released.push(s.provider),
  });
  assert.equal(selection.provider, 'cpu');
  assert.deepEqual(selection.session, { provider: 'cpu' });
  assert.deepEqual(selection.attempts, [
    {
      provider: 'tensorrt',
      ok: false,
      reason: 'session creation failed: libnvinfer.so: cannot open shared object file',
    },
    { provider: 'cuda', ok: false, reason: 'probe run failed: CUDA error: no kernel image is available' },
    { provider: 'cpu', ok: true, reason: 'probe run succeeded' },
  ]);
  assert.deepEqual(released, ['cuda'], 'a session whose probe failed is released');
});

test('selection fails with every reason when no provider works, and stops early on model errors', async () => {
  await assert.rejects(
    selectExecutionProvider({
      preferred: ['cuda', 'cpu'],
      modelBytes: new Uint8Array(),
      sessionFactory: async (_b, p) => {
        throw new Error(`${p} unavailable`);
      },
      probe: async () => {},
    }),
    (e: unknown) =>
      e instanceof NoExecutionProviderError &&
      /cuda: .*cuda unavailable; cpu: .*cpu unavailable/.test(e.message),
  );
  const tried: string[] = [];
  const modelError = new Error('input shape mismatch');
  await assert.rejects(
    selectExecutionProvider({
      preferred: ['cuda', 'cpu'],
      modelBytes: new Uint8Array(),
      sessionFactory: async (_b, p) => void tried.push(p),
      probe: async () => {
        throw modelError;
      },
      isModelError: (e) => e === modelError,
    }),
    (e) => e === modelError,
  );
  assert.deepEqual(tried, ['cuda']);
  await assert.rejects(
    selectExecutionProvider({
      preferred: [],
      modelBytes: new Uint8Array(),
      sessionFactory: async () => 1,
      probe: async () => {},
    }),
    /preferred execution providers is empty/,
  );
});

test('on this CPU-only machine, asking for cuda falls back to cpu and says why (real ORT)', async () => {
  const registry = new Registry();
  const lines: { obj: object; msg: string }[] = [];
  const logger = { info: (obj: object, msg: string) => void lines.push({ obj, msg }), warn() {}, error() {} };
  const scorer = await MicroBatchScorer.create(
    {
      metadata: { name: 'lr', version: '1', features: FEATURES, inputName: 'features', outputName: 'score' },
      bytes: lrBytes(),
    },
    { preferredProviders: ['cuda', 'cpu'], metricsRegistry: registry, logger },
  );
  try {
    assert.equal(scorer.provider, 'cpu');
    const [cuda, cpu] = scorer.attempts;
    assert.equal(cuda?.provider, 'cuda');
    assert.equal(cuda?.ok, false);
    assert.match(cuda!.reason, /session creation failed: .*(Cuda|CUDA|shared library)/);
    assert.deepEqual(cpu, { provider: 'cpu', ok: true, reason: 'probe run succeeded' });
    const gauge = await registry.getSingleMetric('sluice_scorer_execution_provider')!.get();
    const byProvider = Object.fromEntries(gauge.values.map((v) => [v.labels.provider, v.value]));
    assert.deepEqual(byProvider, { cuda: 0, cpu: 1 });
    assert.ok(
      lines.some((l) => l.msg === 'scorer using execution provider cpu'),
      'a log line names the provider',
    );
    const [row] = await scorer.score([Float32Array.of(1, 2, 3)]);
    assert.ok(Math.abs(row!.score - 1 / (1 + Math.exp(-(1 - 2 + 1.5)))) < 1e-6);
  } finally {
    await scorer.close();
  }
});
