/**
 * The trainer against real Kafka and embedded ClickHouse: served predictions + labels in sluice.predictions
 * / sluice.labels, a registry with v1, and retrain requests on a fresh topic. A malformed record and a
 * request with too few rows go to the DLQ with their reason, a later good request still trains v2 (shadow,
 * lineage, lifecycle event), and the same request delivered again creates no v3.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Producer } from 'kafkajs';
import { pino } from 'pino';
import { createClickHouseClient, type ClickHouseClient } from '../../connectors/clickhouse/index.js';
import {
  insertLabels,
  migratePredictionTables,
  PREDICTIONS_TABLE,
  toPredictionRow,
} from '../../connectors/clickhouse-tables/predictions.js';
import type { Prediction } from '../../connectors/experiments/prediction.js';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import type { AlertRecord, RetrainRequestRecord } from '../../schemas/index.js';
import { buildReferenceModel, datasetHash } from '../../services/trainer/build-reference-model.js';
import {
  startRetrainService,
  type HandledRequest,
  type RetrainService,
} from '../../services/trainer/retrain/retrain-service.js';
import { generateTxnRiskData, TXN_RISK_FEATURE_NAMES } from '../../services/trainer/synthetic-data.js';
import {
  lifecycleEventPublisher,
  parseLifecycleEvent,
} from '../../topologies/scoring/lifecycle-publisher.js';
import {
  createTopic,
  deleteTopics,
  headerText,
  produce,
  readAll,
  testKafka,
  uniqueName,
} from '../support/kafka.js';

const kafka = testKafka();
const id = uniqueName('retrain');
const model = `${id}-model`;
const topics = {
  requests: `${id}.requests`,
  dlq: `${id}.requests.dlq`,
  lifecycle: `${id}.lifecycle`,
  alerts: `${id}.alerts`,
};
const alertsRaised = async () =>
  (await readAll(kafka, topics.alerts)).map((m) => JSON.parse(String(m.value)) as AlertRecord);
const groupId = `${id}-trainer`;
const dir = mkdtempSync(path.join(os.tmpdir(), `${id}-`));
const ROWS = 1500;
const T0 = Date.UTC(2024, 0, 10);
const WINDOW = { from: T0, to: T0 + ROWS * 1000 };

let clickhouse: ClickHouseClient;
let producer: Producer;
let registry: FileModelRegistry;
let service: RetrainService | undefined;
const handled: HandledRequest[] = [];

const data = generateTxnRiskData({ rows: ROWS, seed: 5 });
const F = TXN_RISK_FEATURE_NAMES.length;
const pad = (i: number) => String(i).padStart(6, '0');
const featuresOf = (r: number) =>
  Object.fromEntries(TXN_RISK_FEATURE_NAMES.map((n, i) => [n, data.x[r * F + i]!]));

function prediction(
  eventId: string,
  eventTime: number,
  features: Record<string, number>,
  over: Partial<Prediction> = {},
): Prediction {
  return {
    predictionId: `p-${eventId}-${over.shadow ? 's' : 'a'}`,
    entity: `card-${eventId}`,
    eventId,
    eventTime,
    model,
    modelVersion: '1',
    variant: 'A',
    experiment: 'exp',
    experimentVersion: 1,
    shadow: false,
    score: 0.1,
    latencyMs: 1,
    features,
    sourceTopic: 'txn',
    sourcePartition: 0,
    sourceOffset: 0,
    ...over,
  };
}

const request = (requestId: string, over: Partial<RetrainRequestRecord> = {}): RetrainRequestRecord => ({
  requestId,
  model,
  modelVersion: '1',
  trigger: 'DRIFT',
  reason: 'test drift',
  breaches: [{ feature: 'amount', metric: 'PSI', value: 0.4, threshold: 0.2 }],
  trainFrom: WINDOW.from,
  trainTo: WINDOW.to,
  requestedAt: WINDOW.to,
  ...over,
});

async function waitForHandled(n: number, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (handled.length < n) {
    assert.ok(Date.now() < deadline, `only ${handled.length} of ${n} requests handled in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every non-empty partition of the request topic has its offset committed at its end. */
async function waitForAllCommitted(timeoutMs = 30_000) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ends = await admin.fetchTopicOffsets(topics.requests);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.requests] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
      if (ends.every((e) => e.high === '0' || at.get(e.partition) === e.high)) return;
      assert.ok(Date.now() < deadline, `offsets not committed to the end: ${JSON.stringify([...at])}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

before(async () => {
  clickhouse = createClickHouseClient({ mode: 'embedded', path: path.join(dir, 'chdb') });
  await migratePredictionTables(clickhouse);
  const rows: Prediction[] = [];
  const labels: { txnId: string; entity: string; ts: number; isFraud: boolean }[] = [];
  const label = (eventId: string, isFraud: boolean) =>
    labels.push({ txnId: eventId, entity: 'c', ts: 1, isFraud });
  for (let r = 0; r < ROWS; r++) {
    const features = featuresOf(r);
    // Half the rows log their features in another key order: the trainer must reorder by name.
    const logged = r % 2 ? Object.fromEntries(Object.entries(features).reverse()) : features;
    rows.push(prediction(`e-${pad(r)}`, T0 + r * 1000, logged));
    label(`e-${pad(r)}`, data.y[r] === 1);
  }
  // Rows the training set must not contain, each labelled so only the filter under test excludes them.
  for (let k = 0; k < 40; k++) {
    const features = featuresOf(k);
    rows.push(prediction(`s-${pad(k)}`, T0 + k, features, { shadow: true }));
    rows.push(prediction(`o-${pad(k)}`, T0 + k, features, { model: `${model}-other` }));
    rows.push(prediction(`w-${pad(k)}`, k % 2 ? WINDOW.to : WINDOW.from - 1, features));
    const { amount: _dropped, ...lacking } = features;
    rows.push(prediction(`m-${pad(k)}`, T0 + k, lacking));
    rows.push(prediction(`u-${pad(k)}`, T0 + k, features)); // never labelled
    for (const p of ['s', 'o', 'w', 'm']) label(`${p}-${pad(k)}`, k % 3 === 0);
  }
  await clickhouse.insert({
    table: PREDICTIONS_TABLE,
    values: rows.map((p) => toPredictionRow(p, 1)),
    format: 'JSONEachRow',
  });
  await insertLabels(clickhouse, labels);

  await createTopic(kafka, topics.lifecycle, 1);
  await createTopic(kafka, topics.requests, 2);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const announce = lifecycleEventPublisher(producer, { actor: 'test-trainer', topic: topics.lifecycle });
  registry = new FileModelRegistry({ root: path.join(dir, 'models'), onLifecycleEvent: announce });
  const v1 = path.join(dir, 'build-v1');
  await buildReferenceModel({ outDir: v1, rows: 2000, seed: 42, name: model, version: '1' });
  await registry.registerFromDirectory(v1, { stage: 'champion' });

  service = await startRetrainService({
    kafka,
    registry,
    clickhouse,
    announce,
    topic: topics.requests,
    alertsTopic: topics.alerts,
    groupId,
    logger: pino({ level: 'silent' }),
    retry: { minTimeoutMs: 50, maxTimeoutMs: 500 },
    onHandled: (h) => handled.push(h),
  });
});

after(async () => {
  await service?.stop();
  await producer?.disconnect().catch(() => undefined);
  await clickhouse?.close().catch(() => undefined);
  await deleteTopics(kafka, Object.values(topics));
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test(
  'bad and refused requests are dead-lettered; a later good request still trains a shadow v2',
  { timeout: 180_000 },
  async () => {
    const good = request(`${id}-good`);
    const tooFew = request(`${id}-few`, { trainFrom: WINDOW.to + 1, trainTo: WINDOW.to + 60_000 });
    await produce(kafka, topics.requests, [
      { key: model, value: '{"requestId": "broken' },
      { key: model, value: JSON.stringify(tooFew) },
      { key: model, value: JSON.stringify(good) },
    ]);
    await waitForHandled(3);
    assert.deepEqual(
      handled.map((h) => (h.kind === 'dead_letter' ? h.reason.code : h.result.outcome)),
      ['NOT_JSON', 'TOO_FEW_ROWS', 'trained'],
    );

    const v2 = await registry.get(model, '2');
    assert.equal(v2.stage, 'shadow');
    assert.deepEqual(v2.trainedFor, { requestId: good.requestId, trigger: 'DRIFT', basedOn: '1' });
    // Independent expectation: exactly the in-window, served, labelled e-rows, in eventId order (= index).
    assert.equal(v2.trainingSetHash, datasetHash(data));
    assert.equal(v2.trainingMetrics.skippedMissingFeatures, 40);
    assert.equal(v2.trainingMetrics.rowsRead, ROWS + 40);
    assert.equal(v2.trainingMetrics.windowFrom, WINDOW.from);
    assert.equal(v2.trainingMetrics.windowTo, WINDOW.to);
    assert.equal(v2.trainingMetrics.holdoutRows! + v2.trainingMetrics.trainRows!, ROWS);
    assert.ok(v2.trainingMetrics.holdoutAuc! > 0.7, `holdout AUC ${v2.trainingMetrics.holdoutAuc}`);
    const v1 = await registry.get(model, '1');
    assert.deepEqual(v2.features, v1.features);
    assert.deepEqual(v2.featureViewVersions, v1.featureViewVersions);
    assert.equal((await registry.champion(model))?.version, '1', 'a retrain never changes the champion');

    const dlq = await readAll(kafka, topics.dlq);
    assert.equal(dlq.length, 2);
    const [broken, few] = dlq.sort(
      (a, b) =>
        Number(headerText(a.headers, 'sluice.source.offset')) -
        Number(headerText(b.headers, 'sluice.source.offset')),
    );
    assert.equal(headerText(broken!.headers, 'sluice.error.code'), 'NOT_JSON');
    assert.equal(broken!.value?.toString(), '{"requestId": "broken');
    assert.equal(headerText(few!.headers, 'sluice.error.code'), 'TOO_FEW_ROWS');
    assert.match(headerText(few!.headers, 'sluice.error.message') ?? '', /only 0 usable labelled/);
    assert.equal(headerText(few!.headers, 'sluice.source.topic'), topics.requests);
    assert.equal(JSON.parse(few!.value!.toString()).requestId, tooFew.requestId);

    const events = (await readAll(kafka, topics.lifecycle)).map((m) => parseLifecycleEvent(m.value));
    const registered = events.find((e) => e?.modelVersion === '2' && e.fromStage === 'REGISTERED');
    assert.ok(registered, 'a lifecycle event announced v2');
    assert.equal(registered.toStage, 'SHADOW');
    assert.equal(registered.sha256, v2.sha256);

    // On-call hears of each: two refusals (WARNING) and the new shadow (INFO, with its AUC to judge by).
    const alerts = await alertsRaised();
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity, a.labels.code ?? a.labels.requestId]),
      [
        ['RETRAIN', 'WARNING', 'NOT_JSON'],
        ['RETRAIN', 'WARNING', 'TOO_FEW_ROWS'],
        ['RETRAIN', 'INFO', good.requestId],
      ],
    );
    assert.equal(alerts[1]!.alertId, `alert-refused-${tooFew.requestId}`);
    assert.match(alerts[1]!.message, /only 0 usable labelled/);
    assert.equal(alerts[0]!.model, null, 'an unreadable request names no model');
    const trained = alerts[2]!;
    assert.equal(trained.alertId, `alert-trained-${good.requestId}`);
    assert.equal(trained.modelVersion, '2');
    assert.match(trained.message, new RegExp(`holdout AUC ${v2.trainingMetrics.holdoutAuc!.toFixed(3)}`));

    await waitForAllCommitted();
  },
);

test('the same request delivered again creates no new version', { timeout: 120_000 }, async () => {
  const before = handled.length;
  await produce(kafka, topics.requests, [{ key: model, value: JSON.stringify(request(`${id}-good`)) }]);
  await waitForHandled(before + 1);
  const last = handled.at(-1)!;
  assert.equal(last.kind, 'retrained');
  assert.equal(last.kind === 'retrained' && last.result.outcome, 'duplicate');
  assert.equal(last.kind === 'retrained' && last.result.version, '2');
  assert.deepEqual((await registry.list(model)).map((m) => m.version).sort(), ['1', '2']);
  // The redelivery re-announces v2 (repairs a lost lifecycle event; harmless to listeners).
  const events = (await readAll(kafka, topics.lifecycle)).map((m) => parseLifecycleEvent(m.value));
  assert.equal(events.filter((e) => e?.modelVersion === '2' && e.fromStage === 'REGISTERED').length, 2);
  // ...and raises the trained alert again under the same id, which receivers deduplicate on.
  const alerts = await alertsRaised();
  assert.equal(alerts.length, 4);
  assert.deepEqual(alerts[3], alerts[2]);
  await waitForAllCommitted();
});
