/**
 * The drift topologies against the running Kafka and an embedded ClickHouse: predictions of one model
 * version follow its reference profile (PSI low, no retrain request), another version's are shifted
 * (PSI high on the shifted features, exactly one retrain request, the cool-down holds the second window).
 * Predictions are spread over 3 partitions by entity, as the scoring topology writes them; the samples
 * topology re-keys them so each version's windows see the whole population. Then a fresh drift topology
 * replays the samples and must produce the same retrain request id.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { createClickHouseClient, type ClickHouseClient } from '../../connectors/clickhouse/index.js';
import type { Prediction } from '../../connectors/experiments/prediction.js';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import type { AlertRecord, DriftMetricRecord, RetrainRequestRecord } from '../../schemas/index.js';
import { clickHouseDriftSource } from '../../services/control/clickhouse-drift-source.js';
import { buildReferenceModel } from '../../services/trainer/build-reference-model.js';
import { predictAll, trainLogisticRegression } from '../../services/trainer/logistic-regression.js';
import { generateTxnRiskData, splitHoldout, type Dataset } from '../../services/trainer/synthetic-data.js';
import { driftMetricsClickHouseSink } from '../../topologies/drift/drift-table.js';
import { driftTopologies, type DriftTopologies } from '../../topologies/drift/drift-topology.js';
import type { SinkEnvironment } from '../../connectors/sink.js';
import type { StreamRecord } from '../../schemas/stream.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  headerText,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';

const kafka = testKafka();
const quiet = pino({ level: 'error' });
const MIN = 60_000;
const SEED = 7;
const TRAIN_ROWS = 3000;
const PER_WINDOW = 1200;
const SHIFTED = ['amount', 'txnCount1m'];

const id = uniqueName('drift');
const model = `${id}-risk`;
const dir = mkdtempSync(path.join(os.tmpdir(), `${id}-`));
const topics = {
  predictions: `${id}.predictions`,
  samples: `${id}.samples`,
  metrics: `${id}.drift-metrics`,
  retrain: `${id}.retrain`,
  replayMetrics: `${id}.replay-metrics`,
  replayRetrain: `${id}.replay-retrain`,
  alerts: `${id}.alerts`,
};
const workers: TopologyWorker[] = [];
let clickhouse: ClickHouseClient | undefined;

after(async () => {
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await clickhouse?.close().catch(() => undefined);
  await deleteTopics(kafka, [
    ...Object.values(topics),
    ...topologyTopics(id),
    ...topologyTopics(`${id}-samples`),
    ...topologyTopics(`${id}-replay`),
  ]);
  rmSync(dir, { recursive: true, force: true });
});

/** Live data: an independent draw from the training distribution, optionally shifted. */
function liveData(seed: number, shift: boolean): Dataset {
  const data = generateTxnRiskData({ rows: PER_WINDOW, seed });
  if (!shift) return data;
  const x = Float64Array.from(data.x);
  const f = data.featureNames.length;
  const amount = data.featureNames.indexOf('amount');
  const count = data.featureNames.indexOf('txnCount1m');
  for (let r = 0; r < data.rows; r++) {
    x[r * f + amount] = x[r * f + amount]! * 4 + 50;
    x[r * f + count] = x[r * f + count]! + 3;
  }
  return { ...data, x };
}

function predictions(version: string, data: Dataset, scores: ArrayLike<number>, start: number): Prediction[] {
  const f = data.featureNames.length;
  return Array.from({ length: data.rows }, (_, r) => ({
    predictionId: `${version}-${start}-${r}`,
    entity: `card-${r % 97}`,
    eventId: `t-${r}`,
    eventTime: start + Math.floor((r * (MIN - 1000)) / data.rows),
    model,
    modelVersion: version,
    variant: 'A',
    experiment: null,
    experimentVersion: null,
    shadow: false,
    score: scores[r]!,
    latencyMs: 1,
    features: Object.fromEntries(data.featureNames.map((name, i) => [name, data.x[r * f + i]!])),
    sourceTopic: 'txn',
    sourcePartition: 0,
    sourceOffset: r,
  }));
}

const messages = (ps: readonly Prediction[]) => ps.map((p) => ({ key: p.entity, value: JSON.stringify(p) }));

async function startWorker(t: DriftTopologies['samples']) {
  const w = new TopologyWorker(t, {
    instanceId: 'w1',
    kafka,
    endpoints,
    logger: quiet,
    barrierIntervalMs: 200,
  });
  workers.push(w);
  await w.start();
  return w;
}

test(
  'drift: reference-like version stays quiet, shifted version gets one retrain request',
  { timeout: 180_000 },
  async () => {
    // Two registered versions of the reference model, trained on the same data (same profile).
    const registry = new FileModelRegistry({ root: path.join(dir, 'models') });
    for (const version of ['1', '2']) {
      const out = path.join(dir, 'build', version);
      await buildReferenceModel({ outDir: out, seed: SEED, rows: TRAIN_ROWS, name: model, version });
      await registry.registerFromDirectory(out);
    }
    // The same deterministic training gives the model's parameters, so live scores are real model scores.
    const params = trainLogisticRegression(
      splitHoldout(generateTxnRiskData({ rows: TRAIN_ROWS, seed: SEED }), 0.2).train,
    );
    const scored = (d: Dataset) => predictAll(params, d);

    clickhouse = createClickHouseClient({ mode: 'embedded', path: path.join(dir, 'chdb') });
    await createTopic(kafka, topics.predictions, 3);
    const w0 = Math.floor((Date.now() - 20 * MIN) / MIN) * MIN;
    const windowOf = (i: number): Prediction[] => {
      const normal = liveData(100 + i, false);
      const shifted = liveData(200 + i, true);
      return [
        ...predictions('1', normal, scored(normal), w0 + i * MIN),
        ...predictions('2', shifted, scored(shifted), w0 + i * MIN),
      ];
    };

    const build = (name: string, metrics: string, retrain: string) =>
      driftTopologies({
        name,
        registry,
        predictionsTopic: topics.predictions,
        samplesTopic: topics.samples,
        samplesPartitions: 1,
        metricsTopic: metrics,
        retrainTopic: retrain,
        alertsTopic: topics.alerts,
        window: '1m',
        outOfOrderness: '1s',
        clickhouse: clickhouse!,
      });
    const drift = build(id, topics.metrics, topics.retrain);
    assert.equal(drift.policy.psiThreshold, 0.2);
    await startWorker(drift.samples);
    await startWorker(drift.drift);

    // One window at a time: the samples topic interleaves the 3 predictions partitions, and a backlog of
    // the next window re-keyed ahead of this one would close it early (its stragglers would then be late).
    for (const i of [0, 1]) {
      const unknown =
        i === 0 ? [{ ...windowOf(0)[0]!, modelVersion: '9', predictionId: 'unknown-version' }] : [];
      await produce(kafka, topics.predictions, messages([...windowOf(i), ...unknown]));
      await waitForCommittedEnd(kafka, `${id}-samples`, topics.predictions, 60_000);
    }
    const closers = (['1', '2'] as const).flatMap((version) => {
      const d = liveData(300, false);
      return predictions(version, d, scored(d), w0 + 3 * MIN).slice(0, 3);
    });
    await produce(kafka, topics.predictions, messages(closers));
    await waitForCommittedEnd(kafka, `${id}-samples`, topics.predictions, 60_000);
    await waitForCommittedEnd(kafka, id, topics.samples, 60_000);

    const metrics = (await readAll(kafka, topics.metrics)).map(
      (m) => JSON.parse(String(m.value)) as DriftMetricRecord,
    );
    const requests = (await readAll(kafka, topics.retrain)).map(
      (m) => JSON.parse(String(m.value)) as RetrainRequestRecord,
    );
    // 7 features x (PSI + missing rate) + the score's PSI, per version per window
    assert.equal(metrics.length, 2 * 2 * 15, `metrics: ${metrics.length}`);
    const psiOf = (version: string, feature: string) =>
      metrics.filter((m) => m.modelVersion === version && m.feature === feature && m.metric === 'PSI');
    assert.deepEqual(await readAll(kafka, `${id}.late`), [], 'no sample may be late in this test');
    // A version the registry does not know cannot be monitored: dead-lettered with the reason, not a crash.
    const dead = await readAll(kafka, `${id}-samples.dlq`);
    assert.deepEqual(
      dead.map((m) => [JSON.parse(String(m.value)).predictionId, headerText(m.headers, 'sluice.error.code')]),
      [['unknown-version', 'DRIFT_PROFILE_UNAVAILABLE']],
    );
    for (const m of metrics.filter((x) => x.modelVersion === '1')) {
      assert.equal(m.breached, false, `v1 ${m.feature} ${m.metric} = ${m.value}`);
      if (m.metric === 'PSI') assert.ok(m.value < 0.1, `v1 ${m.feature} PSI ${m.value}`);
      assert.equal(m.sampleSize, PER_WINDOW);
    }
    for (const feature of SHIFTED) {
      for (const m of psiOf('2', feature)) {
        assert.ok(m.value > 0.2 && m.breached, `v2 ${feature} PSI ${m.value}`);
        assert.equal(m.sampleSize, PER_WINDOW);
      }
    }
    assert.deepEqual(
      psiOf('2', 'amount').map((m) => [m.windowStart, m.consecutiveBreaches]),
      [
        [w0, 1],
        [w0 + MIN, 2],
      ],
    );
    for (const m of metrics.filter(
      (x) => x.modelVersion === '2' && x.target === 'FEATURE' && !SHIFTED.includes(x.feature),
    )) {
      assert.equal(m.breached, false, `v2 unshifted ${m.feature} ${m.metric} = ${m.value}`);
    }

    assert.equal(requests.length, 1, JSON.stringify(requests));
    const request = requests[0]!;
    assert.equal(request.model, model);
    assert.equal(request.modelVersion, '2');
    assert.equal(request.trigger, 'DRIFT');
    assert.equal(request.requestedAt, w0 + MIN);
    const named = new Set(request.breaches.filter((b) => b.feature !== 'score').map((b) => b.feature));
    assert.deepEqual([...named].sort(), [...SHIFTED].sort());
    for (const b of request.breaches) assert.ok(b.value > b.threshold && b.threshold === 0.2);

    // On-call hears of it: one DRIFT alert, named after the request, for the webhook dispatcher.
    const alertsOf = async () =>
      (await readAll(kafka, topics.alerts)).map((m) => JSON.parse(String(m.value)) as AlertRecord);
    const alerts = await alertsOf();
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    const alert = alerts[0]!;
    assert.equal(alert.alertId, `alert-${request.requestId}`);
    assert.equal(alert.kind, 'DRIFT');
    assert.equal(alert.severity, 'WARNING');
    assert.equal(alert.dedupKey, `drift:${model}@2`);
    assert.equal(alert.model, model);
    assert.equal(alert.modelVersion, '2');
    assert.equal(alert.labels.requestId, request.requestId);
    assert.ok(alert.message.startsWith(request.reason), alert.message);

    // The control page's view of the same windows, through the drift source.
    const series = await clickHouseDriftSource(clickhouse).series({
      model,
      from: w0 - MIN,
      to: w0 + 10 * MIN,
    });
    const find = (feature: string, metric: string) =>
      series.find((s) => s.feature === feature && s.metric === metric);
    const shiftedAmount = find('amount@2', 'psi');
    const normalAmount = find('amount@1', 'psi');
    assert.ok(
      shiftedAmount && normalAmount,
      `series: ${series.map((s) => `${s.feature}/${s.metric}`).join(', ')}`,
    );
    assert.equal(shiftedAmount.threshold, 0.2);
    assert.deepEqual(
      shiftedAmount.points.map((p) => [p.windowStart, p.breached, p.sampleSize]),
      [
        [w0, true, PER_WINDOW],
        [w0 + MIN, true, PER_WINDOW],
      ],
    );
    assert.deepEqual(
      shiftedAmount.points.map((p) => p.value),
      psiOf('2', 'amount').map((m) => m.value),
    );
    assert.ok(normalAmount.points.every((p) => !p.breached && p.value < 0.1));
    // Nothing was missing in these windows: those charts are left out (the rows stay in ClickHouse).
    assert.equal(find('isForeign@1', 'missing_rate'), undefined);
    assert.equal(find('prediction@1', 'psi')?.points.length, 2);
    assert.equal(series.filter((s) => s.metric === 'psi').length, 2 * 8);
    const one = await clickHouseDriftSource(clickhouse).series({
      model,
      from: w0 - MIN,
      to: w0 + 10 * MIN,
      version: '2',
    });
    assert.deepEqual(
      one.find((s) => s.feature === 'amount' && s.metric === 'psi')?.points,
      shiftedAmount.points,
    );
    assert.ok(
      one.every((s) => !s.feature.includes('@')),
      'one version: plain feature names',
    );
    assert.deepEqual(
      await clickHouseDriftSource(clickhouse).series({ model: 'no-such-model', from: 0, to: w0 }),
      [],
    );

    // A replay from scratch (fresh state, same samples) decides the same request, with the same id.
    const replay = build(`${id}-replay`, topics.replayMetrics, topics.replayRetrain);
    await startWorker(replay.drift);
    await waitForCommittedEnd(kafka, `${id}-replay`, topics.samples, 60_000);
    const replayed = (await readAll(kafka, topics.replayRetrain)).map(
      (m) => JSON.parse(String(m.value)) as RetrainRequestRecord,
    );
    assert.deepEqual(replayed, requests);
    // ...and raises the same alert again, id included, which the receivers deduplicate on (only the
    // topology label differs: this replay runs under another name).
    const again = await alertsOf();
    assert.equal(again.length, 2);
    assert.deepEqual({ ...again[1]!, labels: { ...again[1]!.labels, topology: id } }, alert);
  },
);

test(
  'drift table and source on the ClickHouse 18.16 HTTP server: replays read once, thresholds',
  { timeout: 60_000 },
  async () => {
    const client = createClickHouseClient({
      mode: 'http',
      url: endpoints.clickhouseHttpUrl,
      username: 'default',
      password: '',
      database: 'default',
    });
    const table = `sluice.drift_test_${id.replace(/-/g, '_')}`;
    try {
      const metric = (over: Partial<DriftMetricRecord>): StreamRecord<DriftMetricRecord> => ({
        kind: 'record',
        key: 'm@1',
        eventTime: 0,
        source: { topic: 't', partition: 0, offset: '0', timestamp: 0 },
        headers: {},
        value: {
          model: 'm',
          modelVersion: '1',
          target: 'FEATURE',
          feature: 'amount',
          metric: 'PSI',
          value: 0.05,
          threshold: 0.2,
          sampleSize: 500,
          breached: false,
          consecutiveBreaches: 0,
          windowStart: 3 * MIN,
          windowEnd: 4 * MIN,
          ...over,
        },
      });
      // before the drift topology ever ran: no windows, not an error
      assert.deepEqual(
        await clickHouseDriftSource(client, { table }).series({ model: 'm', from: 0, to: MIN }),
        [],
      );
      let clock = 1000;
      const sink = driftMetricsClickHouseSink({ client, table, now: () => clock++ });
      const writer = await sink.open({ endpoints } as unknown as SinkEnvironment);
      const rows = [
        metric({}),
        metric({
          windowStart: 4 * MIN,
          windowEnd: 5 * MIN,
          value: 0.31,
          breached: true,
          consecutiveBreaches: 1,
        }),
        metric({ metric: 'MISSING_RATE', value: 0.02, threshold: null }),
        metric({ target: 'PREDICTION', feature: 'score', value: 0.01 }),
        // Nothing missing and no threshold: not charted.
        metric({ feature: 'country', metric: 'MISSING_RATE', value: 0, threshold: null }),
        // A version retired before the range's latest window: shown only when asked for.
        metric({ modelVersion: '0', windowStart: MIN, windowEnd: 2 * MIN, value: 0.4, breached: true }),
      ];
      await writer.write(rows);
      await writer.write(rows.slice(1, 2)); // a replayed window
      await writer.close();
      const series = await clickHouseDriftSource(client, { table }).series({
        model: 'm',
        from: 0,
        to: 10 * MIN,
      });
      assert.deepEqual(
        series.map((s) => [
          s.feature,
          s.metric,
          s.threshold,
          s.points.map((p) => [p.windowStart, p.value, p.sampleSize, p.breached]),
        ]),
        [
          ['amount', 'missing_rate', 1, [[3 * MIN, 0.02, 500, false]]],
          [
            'amount',
            'psi',
            0.2,
            [
              [3 * MIN, 0.05, 500, false],
              [4 * MIN, 0.31, 500, true],
            ],
          ],
          ['prediction', 'psi', 0.2, [[3 * MIN, 0.01, 500, false]]],
        ],
      );
      const retired = await clickHouseDriftSource(client, { table }).series({
        model: 'm',
        from: 0,
        to: 10 * MIN,
        version: '0',
      });
      assert.deepEqual(
        retired.map((s) => [s.feature, s.metric, s.points.map((p) => p.value)]),
        [['amount', 'psi', [0.4]]],
      );
      const narrowed = await clickHouseDriftSource(client, { table }).series({
        model: 'm',
        from: 4 * MIN,
        to: 10 * MIN,
      });
      assert.deepEqual(
        narrowed.map((s) => s.points.length),
        [1],
      );
    } finally {
      await client.command({ query: `DROP TABLE IF EXISTS ${table}` }).catch(() => undefined);
      await client.command({ query: `DROP TABLE IF EXISTS ${table}_migrations` }).catch(() => undefined);
      await client.close();
    }
  },
);
