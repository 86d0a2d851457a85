/**
 * The experiment watcher against a real FileExperimentStore in a temp dir and the real serving side
 * (ServingExperiment + ModelSlots + MicroBatchScorer on small ONNX models). Only the model registry is an
 * in-memory stand-in. A newer version is switched to; a version naming an unknown model is refused while
 * the old one keeps serving, and retried with backoff until the model arrives; a poll that fails is
 * reported and the next poll still switches.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { register } from 'prom-client';
import { FileExperimentStore, type ExperimentDraft } from '../../connectors/experiments/index.js';
import type { ModelMetadata } from '../../connectors/model-registry/model-metadata.js';
import { bucketOf } from '../../operators/route/variant-hash.js';
import { ModelSlots, type ModelSource } from '../../operators/score/model-slots.js';
import { ExperimentWatcher } from '../../topologies/scoring/experiment-watcher.js';
import { EXPERIMENT_VERSION_METRIC, ServingExperiment } from '../../topologies/scoring/serving-experiment.js';
import {
  buildLogisticRegressionOnnx,
  logisticForward,
  type LogisticParams,
} from '../../services/trainer/onnx/logistic-regression-onnx.js';

const quiet = { info() {}, warn() {}, error() {} };
const FEATURES = ['a', 'b'];
const PARAMS: Record<string, LogisticParams> = {
  m1: { featureNames: FEATURES, mean: [0, 0], std: [1, 1], weights: [1, 0], bias: 0 },
  m2: { featureNames: FEATURES, mean: [0, 0], std: [1, 1], weights: [0, -1], bias: 0.5 },
};

/** In-memory stand-in for the model registry: one champion version '1' per model in PARAMS. */
const registry: ModelSource = {
  async list(name) {
    if (!PARAMS[name]) return [];
    const meta = { name, version: '1', features: FEATURES, inputName: 'features', outputName: 'score' };
    return [{ ...meta, stage: 'champion' } as unknown as ModelMetadata];
  },
  async loadVerified(name, version) {
    const params = PARAMS[name];
    if (!params) throw new Error(`no model ${name}`);
    const metadata = { name, version, features: FEATURES, inputName: 'features', outputName: 'score' };
    return { metadata: metadata as unknown as ModelMetadata, bytes: buildLogisticRegressionOnnx(params) };
  },
};

async function setup(name: string) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'exp-watch-'));
  const store = new FileExperimentStore({ root });
  const save = (d: Omit<ExperimentDraft, 'name'>) => store.save({ name, ...d });
  const v1 = await save({ salt: 's1', variants: [{ name: 'A', model: 'm1', weight: 1 }], shadows: [] });
  const slots = await ModelSlots.open(v1, registry, {
    availableFeatures: FEATURES,
    scorer: { logger: quiet, maxDelayMs: 0, preferredProviders: ['cpu'] },
  });
  const serving = new ServingExperiment(slots, `test-${name}`);
  return { root, store, save, serving, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const ROW = Float32Array.of(0.3, 1.2);
const scoreWith = async (serving: ServingExperiment, slot: string) => {
  const lease = serving.acquire();
  try {
    const r = await lease.state.slots.scorer(slot).scoreFlat(ROW, 1);
    return { score: r.scores[0]!, model: r.modelOf(0) };
  } finally {
    lease.release();
  }
};
const expected = (model: string) => logisticForward(PARAMS[model]!, [...ROW]);

async function gaugeOf(topology: string): Promise<number | undefined> {
  const m = await register.getSingleMetric(EXPERIMENT_VERSION_METRIC)?.get();
  return m?.values.find((v) => v.labels.topology === topology)?.value;
}

test('a newer version is switched to; batches already running keep the old state until they finish', async () => {
  const t = await setup('switch');
  const switched: number[] = [];
  const watcher = new ExperimentWatcher({
    store: t.store,
    target: t.serving,
    onSwitched: (next) => switched.push(next.version),
  });
  try {
    assert.equal(await watcher.poll(), 'unchanged', 'nothing newer yet');
    assert.equal(await gaugeOf('test-switch'), 1);
    const inFlight = t.serving.acquire(); // a batch that started before the switch
    const scorerA = t.serving.slots.scorer('A');

    await t.save({
      salt: 's1',
      variants: [
        { name: 'A', model: 'm1', weight: 0.5 },
        { name: 'B', model: 'm2', weight: 0.5 },
      ],
      shadows: [],
    });
    assert.equal(await watcher.poll(), 'switched');
    assert.deepEqual(switched, [2]);
    assert.equal(t.serving.experiment.version, 2);
    assert.equal(await gaugeOf('test-switch'), 2);
    assert.strictEqual(t.serving.slots.scorer('A'), scorerA, 'unchanged slot A keeps its running scorer');

    // New batches route with version 2 and both variants, by the hash rule of the new config.
    const now = t.serving.acquire();
    const served = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const route = now.state.router.route(`card-${i}`);
      assert.equal(route.experimentVersion, 2);
      assert.equal(route.served.name, bucketOf('s1', `card-${i}`) < 0.5 ? 'A' : 'B');
      served.add(route.served.name);
    }
    now.release();
    assert.deepEqual([...served].sort(), ['A', 'B']);
    const b = await scoreWith(t.serving, 'B');
    assert.equal(b.model, 'm2@1');
    assert.ok(Math.abs(b.score - expected('m2')) < 1e-5);

    // The batch that began before the switch still sees version 1 only.
    assert.equal(inFlight.state.router.route('card-1').experimentVersion, 1);
    assert.throws(() => inFlight.state.slots.scorer('B'), /no scorer for slot B/);
    inFlight.release();

    // Version 3 drops B: once no batch holds version 2, B's scorer is closed; A still serves.
    const scorerB = t.serving.slots.scorer('B');
    const holder = t.serving.acquire();
    await t.save({ salt: 's1', variants: [{ name: 'A', model: 'm1', weight: 1 }], shadows: [] });
    assert.equal(await watcher.poll(), 'switched');
    const stillOpen = await scorerB.scoreFlat(ROW, 1);
    assert.equal(stillOpen.modelOf(0), 'm2@1', 'B serves the batch that still holds version 2');
    holder.release();
    await sleep(50);
    await assert.rejects(scorerB.scoreFlat(ROW, 1), 'B is closed once its last batch released it');
    assert.equal((await scoreWith(t.serving, 'A')).model, 'm1@1');
  } finally {
    await watcher.stop();
    await t.serving.close();
    t.cleanup();
  }
});

test('a version naming an unknown model is refused, the old version keeps serving, and it is retried with backoff', async () => {
  const t = await setup('refuse');
  const refusals: { version: number; message: string; attempt: number; retryInMs: number }[] = [];
  let now = 1_000_000;
  const watcher = new ExperimentWatcher({
    store: t.store,
    target: t.serving,
    intervalMs: 1000,
    maxRetryMs: 5000,
    now: () => now,
    onRefused: (next, err, retry) => refusals.push({ version: next.version, message: err.message, ...retry }),
  });
  try {
    await t.save({
      salt: 's1',
      variants: [
        { name: 'A', model: 'm1', weight: 0.5 },
        { name: 'B', model: 'late-model', weight: 0.5 },
      ],
      shadows: [],
    });
    assert.equal(await watcher.poll(), 'refused');
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]!.version, 2);
    assert.match(refusals[0]!.message, /slot B/);
    assert.match(refusals[0]!.message, /late-model/);
    assert.equal(t.serving.experiment.version, 1, 'still serving version 1');
    assert.equal(await gaugeOf('test-refuse'), 1);
    const lease = t.serving.acquire();
    assert.equal(lease.state.router.route('card-7').served.name, 'A');
    lease.release();
    const a = await scoreWith(t.serving, 'A');
    assert.ok(Math.abs(a.score - expected('m1')) < 1e-5, 'A still scores with m1');

    assert.equal(await watcher.poll(), 'unchanged', 'not retried on every poll');
    now += 1999;
    assert.equal(await watcher.poll(), 'unchanged', 'not before its backoff (2 intervals) has passed');
    now += 1;
    assert.equal(await watcher.poll(), 'refused', 'retried once the backoff has passed');
    now += 10_000;
    assert.equal(await watcher.poll(), 'refused');
    assert.deepEqual(
      refusals.map((r) => [r.attempt, r.retryInMs]),
      [
        [1, 2000],
        [2, 4000],
        [3, 5000],
      ],
      'the backoff doubles up to maxRetryMs',
    );

    // What version 2 needs arrives (the model is registered): the next retry serves it, no new version.
    PARAMS['late-model'] = PARAMS.m2!;
    now += 5000;
    assert.equal(await watcher.poll(), 'switched');
    assert.equal(t.serving.experiment.version, 2);
    assert.equal((await scoreWith(t.serving, 'B')).model, 'late-model@1');
  } finally {
    delete PARAMS['late-model'];
    await watcher.stop();
    await t.serving.close();
    t.cleanup();
  }
});

test('a refused version is superseded by a later one saved meanwhile', async () => {
  const t = await setup('supersede');
  const watcher = new ExperimentWatcher({ store: t.store, target: t.serving });
  try {
    const bad = [{ name: 'A', model: 'no-such-model', weight: 1 }];
    await t.save({ salt: 's1', variants: bad, shadows: [] });
    assert.equal(await watcher.poll(), 'refused');
    // The operator saves a corrected version: it is taken at once, without waiting for the backoff.
    await t.save({ salt: 's1', variants: [{ name: 'A', model: 'm2', weight: 1 }], shadows: [] });
    assert.equal(await watcher.poll(), 'switched');
    assert.equal(t.serving.experiment.version, 3);
  } finally {
    await watcher.stop();
    await t.serving.close();
    t.cleanup();
  }
});

test('poll errors are reported and survived by the running watcher', async () => {
  const t = await setup('errors');
  const errors: string[] = [];
  const switched: number[] = [];
  const watcher = new ExperimentWatcher({
    store: t.store,
    target: t.serving,
    intervalMs: 20,
    onPollError: (err) => errors.push(err.message),
    onSwitched: (next) => switched.push(next.version),
  });
  try {
    // A corrupt latest version file: every poll fails until it is gone.
    const bad = path.join(t.root, 'errors', '2.json');
    writeFileSync(bad, '{ not json');
    watcher.start();
    const deadline = Date.now() + 5000;
    while (errors.length < 2) {
      assert.ok(Date.now() < deadline, 'the watcher kept polling after a failure');
      await sleep(10);
    }
    assert.match(errors[0]!, /2\.json is not valid JSON/);
    assert.equal(t.serving.experiment.version, 1);
    rmSync(bad);
    await t.save({ salt: 's2', variants: [{ name: 'A', model: 'm2', weight: 1 }], shadows: [] });
    while (switched.length === 0) {
      assert.ok(Date.now() < deadline + 5000, 'switched after the store recovered');
      await sleep(10);
    }
    assert.deepEqual(switched, [2]);
    assert.equal((await scoreWith(t.serving, 'A')).model, 'm2@1', 'slot A changed model, so it was reloaded');
  } finally {
    await watcher.stop();
    await t.serving.close();
    t.cleanup();
  }
});

test('the same entity keeps its variant when only unrelated things change; a new salt re-routes', async () => {
  const t = await setup('determinism');
  const watcher = new ExperimentWatcher({ store: t.store, target: t.serving });
  const two = [
    { name: 'A', model: 'm1', weight: 0.5 },
    { name: 'B', model: 'm2', weight: 0.5 },
  ];
  const routeAll = () => {
    const lease = t.serving.acquire();
    try {
      return Array.from({ length: 500 }, (_, i) => lease.state.router.route(`e-${i}`).served.name);
    } finally {
      lease.release();
    }
  };
  try {
    await t.save({ salt: 's1', variants: two, shadows: [] });
    assert.equal(await watcher.poll(), 'switched');
    const before = routeAll();
    // Version 3 adds a shadow and a description only: every entity keeps its variant.
    await t.save({ salt: 's1', variants: two, shadows: [{ name: 'S', model: 'm2' }], description: 'x' });
    assert.equal(await watcher.poll(), 'switched');
    assert.deepEqual(routeAll(), before);
    // Version 4 changes the salt: routing follows the new salt (as the operator asked).
    await t.save({ salt: 's-new', variants: two, shadows: [] });
    assert.equal(await watcher.poll(), 'switched');
    const after = routeAll();
    after.forEach((v, i) => assert.equal(v, bucketOf('s-new', `e-${i}`) < 0.5 ? 'A' : 'B'));
    assert.notDeepEqual(after, before);
  } finally {
    await watcher.stop();
    await t.serving.close();
    t.cleanup();
  }
});
