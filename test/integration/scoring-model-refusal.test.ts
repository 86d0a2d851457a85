/**
 * A corrupt model published as the new champion (bad checksum, wrong input shape, a feature the feature
 * view lacks) is refused with a clear error and an alert, while the running version keeps serving every
 * event.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { NumericProfile } from '../../connectors/model-registry/model-metadata.js';
import type { SlotRefusal } from '../../operators/score/model-slots.js';
import { buildLogisticRegressionOnnx } from '../../services/trainer/onnx/logistic-regression-onnx.js';
import { createTopic, produce, readAll, testKafka } from '../support/kafka.js';
import {
  cleanup,
  createFixture,
  makeTxns,
  registerBuiltModel,
  registerModel,
  saveExperiment,
  startScoring,
  txnMessages,
  waitForCommitted,
  writeOnlineFeatures,
  type Fixture,
} from '../support/scoring-fixture.js';

const kafka = testKafka();
let fixture: Fixture | undefined;

/** Writes a logistic-regression ONNX over `onnxFeatures` with metadata claiming `declared` features. */
async function writeModel(f: Fixture, version: string, onnxFeatures: string[], declared: string[]) {
  const base = await f.registry.get('txn-risk', '1');
  const bytes = buildLogisticRegressionOnnx({
    featureNames: onnxFeatures,
    mean: onnxFeatures.map(() => 0),
    std: onnxFeatures.map(() => 1),
    weights: onnxFeatures.map(() => 0.1),
    bias: -2,
  });
  const profile: NumericProfile = {
    kind: 'numeric',
    edges: [0],
    frequencies: [0.5, 0.5],
    count: 10,
    missingRate: 0,
  };
  await registerBuiltModel(f, bytes, {
    ...base,
    version,
    features: declared,
    referenceProfile: {
      features: Object.fromEntries(declared.map((d) => [d, base.referenceProfile.features[d] ?? profile])),
    },
  });
}

test(
  'corrupt versions are refused while the running version keeps serving',
  { timeout: 120_000 },
  async () => {
    const f = (fixture = await createFixture(kafka, 'scoring-refuse'));
    await createTopic(kafka, f.topics.source, 2);
    await registerModel(f, 'txn-risk', '1', 42, 'champion');
    const experiment = await saveExperiment(f, {
      salt: 'x',
      variants: [{ name: 'A', model: 'txn-risk', weight: 1 }],
      shadows: [],
    });
    await writeOnlineFeatures(f, 500);
    const refusals: SlotRefusal[] = [];
    const { scoring, worker } = await startScoring(kafka, f, experiment.name, {
      onRefused: (r) => refusals.push(r),
    });
    const group = scoring.topology.name;
    const features = (await f.registry.get('txn-risk', '1')).features;
    let sent = 0;
    const sendAndWait = async (n: number) => {
      await produce(kafka, f.topics.source, txnMessages(makeTxns(n, 500, sent + 1, sent)));
      sent += n;
      await waitForCommitted(kafka, group, f.topics.source, sent, 60_000);
    };
    const promoteAndExpect = async (version: string, code: string, text: RegExp) => {
      await f.registry.setStage('txn-risk', version, 'champion', 'test');
      const deadline = Date.now() + 20_000;
      while (!refusals.some((r) => r.version === version)) {
        assert.ok(Date.now() < deadline, `no refusal for version ${version}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = refusals.find((x) => x.version === version)!;
      assert.equal(r.code, code, r.message);
      assert.match(r.message, text);
      assert.match(r.message, /keeps serving txn-risk@1/);
      await sendAndWait(1000);
    };
    try {
      await sendAndWait(1000);

      // 1. Bad checksum: model.onnx changed after registration.
      await registerModel(f, 'txn-risk', '2', 7, 'shadow');
      appendFileSync(path.join(f.registry.root, 'txn-risk', '2', 'model.onnx'), Buffer.from('tampered'));
      await promoteAndExpect('2', 'CHECKSUM_MISMATCH', /sha256/);

      // 2. Wrong input shape: the graph takes 6 features, the metadata declares the 7 the scorer feeds.
      await writeModel(f, '3', features.slice(0, 6), [...features]);
      await promoteAndExpect('3', 'SHAPE_MISMATCH', /expected \[N, 7\]/);

      // 3. A feature the feature view does not serve.
      const extra = [...features, 'deviceAgeDays'];
      await writeModel(f, '4', extra, extra);
      await promoteAndExpect('4', 'MISSING_FEATURES', /deviceAgeDays/);
    } finally {
      await worker.stop();
      await scoring.stop();
    }
    assert.deepEqual(scoring.slots.current(), { A: 'txn-risk@1' });
    assert.deepEqual(
      refusals.map((r) => r.version),
      ['2', '3', '4'],
      'each bad version is refused once, not again on every later lifecycle event',
    );

    const predictions = (await readAll(kafka, f.topics.predictions)).map(
      (m) =>
        JSON.parse(String(m.value)) as { predictionId: string; modelVersion: string; sourceOffset: number },
    );
    assert.equal(new Set(predictions.map((p) => p.predictionId)).size, sent, 'every event was scored');
    assert.deepEqual([...new Set(predictions.map((p) => p.modelVersion))], ['1'], 'only v1 ever served');

    const alerts = (await readAll(kafka, f.topics.alerts)).map(
      (m) => JSON.parse(String(m.value)) as { modelVersion: string; severity: string; message: string },
    );
    assert.deepEqual(alerts.map((a) => a.modelVersion).sort(), ['2', '3', '4']);
  },
);

after(async () => {
  if (fixture) await cleanup(kafka, fixture, `${fixture.id}-scoring`);
});
