/**
 * `npm run demo`: the reference deployment (transaction risk) end to end, in one process, on the local
 * stack: deploy, train and register two models, start the features and scoring topologies, publish card
 * transactions, let labels arrive, and print what each user of Sluice would look at — online features,
 * offline rows, predictions per variant and the A/B report. One process, because the embedded ClickHouse
 * (chdb) belongs to one process; a multi-process deployment points CLICKHOUSE_URL at a server.
 */
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Kafka, Producer } from 'kafkajs';
import { register } from 'prom-client';
import type { ClickHouseClient } from '../../connectors/clickhouse/clickhouse-client.js';
import { acquireClickHouse } from '../../connectors/feature-sinks/clickhouse-pool.js';
import { readToEnd } from '../../connectors/kafka/read-to-end.js';
import { insertLabels } from '../../connectors/clickhouse-tables/predictions.js';
import { DEFAULT_STATE_DIR, loadEndpoints } from '../../connectors/config/endpoints.js';
import { FileExperimentStore } from '../../connectors/experiments/index.js';
import { createKafka, rootLogger } from '../../connectors/kafka/client.js';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import { createOnlineFeatureReader, createRedisClient } from '../../connectors/redis/index.js';
import {
  createAvroSerde,
  createRegistryClient,
  registryAuthFromEnv,
} from '../../connectors/schema-registry/index.js';
import {
  TxnEvent,
  TxnLabel,
  type AlertRecord,
  type RetrainRequestRecord,
  type TxnEventRecord,
} from '../../schemas/index.js';
import { alertsTopicFromEnv } from '../../topologies/scoring/alerts.js';
import { experimentReport } from '../../services/experiments-report/experiment-report.js';
import { buildReferenceModel } from '../../services/trainer/build-reference-model.js';
import { retrainModel } from '../../services/trainer/retrain/retrain-model.js';
import { groundTruthLogit, seededRandom } from '../../services/trainer/synthetic-data.js';
import { driftTopologies } from '../../topologies/drift/drift-topology.js';
import { referenceCardFeatures } from '../../topologies/features/reference.js';
import { CARD_FEATURES_SOURCE } from '../../topologies/features/views/source.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { lifecycleEventPublisher } from '../../topologies/scoring/lifecycle-publisher.js';
import { referenceScoring } from '../../topologies/scoring/reference.js';
import { formatReport } from '../cli/commands/experiments.js';
import { serveControlPage } from './serve-control.js';
import {
  deployActor,
  deployReference,
  LABELS_TOPIC,
  PREDICTIONS_TOPIC,
} from '../reference/deploy-reference.js';

const EVENTS = Number(process.env.DEMO_EVENTS ?? 20_000);
const CARDS = Number(process.env.DEMO_CARDS ?? 20_000);
/** A few compromised cards see bursts (card testing): the signal the 1 min features carry. */
const HOT_CARDS = 20;
const RATE = Number(process.env.DEMO_RATE ?? 4000);
const SOURCE = CARD_FEATURES_SOURCE.topic;
const logger = rootLogger.child({ component: 'demo' });
const quiet = rootLogger.child({ component: 'demo-worker' }, { level: process.env.LOG_LEVEL ?? 'warn' });

const step = (n: number, text: string) => console.log(`\n[${n}/8] ${text}`);

async function committed(kafka: Kafka, groupId: string, topic: string = SOURCE): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((s, p) => s + (p.offset === '-1' ? 0 : Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

async function endOffset(kafka: Kafka, topic: string = SOURCE): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

function makeTxn(rand: () => number, runId: string, i: number, now: number): TxnEventRecord {
  const hot = rand() < 0.03;
  const card = hot ? Math.floor(rand() * HOT_CARDS) : HOT_CARDS + Math.floor(rand() * (CARDS - HOT_CARDS));
  const foreign = rand() < (hot ? 0.5 : 0.1);
  return {
    txnId: `${runId}-${i}`,
    cardId: `card-${runId}-${card}`,
    accountId: `acct-${card % 97}`,
    merchantId: `m-${Math.floor(rand() * 300)}`,
    merchantCategory: ['5411', '5812', '5999', '4829'][Math.floor(rand() * 4)] ?? '5411',
    amount: Math.round(Math.exp(3 + rand() * 1.6) * 100) / 100,
    currency: 'EUR',
    country: foreign ? 'US' : 'DE',
    channel: foreign ? 'ECOMMERCE' : 'POS',
    ts: now - 2 * 60_000 + Math.floor((i / EVENTS) * 2 * 60_000),
  };
}

async function publish(
  producer: Producer,
  serialize: (t: TxnEventRecord) => Buffer | Promise<Buffer>,
  runId: string,
) {
  const rand = seededRandom(7);
  const now = Date.now();
  const bar = new SingleBar(
    { format: '  publishing [{bar}] {value}/{total} txns', noTTYOutput: true, notTTYSchedule: 2000 },
    Presets.shades_classic,
  );
  bar.start(EVENTS, 0);
  const chunk = 500;
  for (let i = 0; i < EVENTS; i += chunk) {
    const started = Date.now();
    const txns = Array.from({ length: Math.min(chunk, EVENTS - i) }, (_, k) =>
      makeTxn(rand, runId, i + k, now),
    );
    const messages = await Promise.all(txns.map(async (t) => ({ key: t.cardId, value: await serialize(t) })));
    await producer.send({ topic: SOURCE, acks: -1, messages });
    bar.update(i + txns.length);
    // Paced like a live feed rather than a bulk load, so windows close while scoring runs.
    const wait = (chunk / RATE) * 1000 - (Date.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  // One late-arriving "now" event per partition moves every watermark past the demo's windows.
  const flushTs = now + 60_000;
  for (let p = 0; p < 6; p += 1) {
    const t = { ...makeTxn(rand, runId, EVENTS + p, now), ts: flushTs, cardId: `flush-${runId}-${p}` };
    await producer.send({
      topic: SOURCE,
      acks: -1,
      messages: [{ partition: p, key: t.cardId, value: await serialize(t) }],
    });
  }
  bar.stop();
}

/** What the on-call engineer and the trainer see: drift per window and the retrain requests it caused. */
async function printDrift(
  kafka: Kafka,
  clickhouse: ClickHouseClient,
  runId: string,
  retrainTopic: string,
): Promise<RetrainRequestRecord[]> {
  const rows = await (
    await clickhouse.query({
      query: `SELECT modelVersion, feature, round(max(value), 3) AS maxPsi, sum(breached) AS breachedWindows,
                     count() AS windows
              FROM sluice.drift_metrics FINAL
              WHERE model = 'fraud' AND modelVersion LIKE '${runId}-%' AND metric = 'PSI'
              GROUP BY modelVersion, feature ORDER BY modelVersion, maxPsi DESC`,
      format: 'JSONEachRow',
    })
  ).json<{ modelVersion: string; feature: string; maxPsi: number; breachedWindows: number | string }>();
  console.log('  drift (ClickHouse sluice.drift_metrics, PSI per 1 min window vs the training profile):');
  for (const r of rows) {
    const flag =
      Number(r.breachedWindows) > 0 ? `  <- above threshold in ${r.breachedWindows} window(s)` : '';
    console.log(`    fraud@${r.modelVersion} ${r.feature.padEnd(20)} max PSI ${r.maxPsi}${flag}`);
  }
  const requests: RetrainRequestRecord[] = [];
  await readToEnd(kafka, retrainTopic, (_p, m) => {
    const r = JSON.parse(String(m.value)) as RetrainRequestRecord;
    if (r.model === 'fraud' && r.modelVersion.startsWith(`${runId}-`)) requests.push(r);
  });
  console.log(`  retrain requests (${retrainTopic}): ${requests.length}`);
  for (const r of requests)
    console.log(`    ${r.requestId.slice(0, 12)} fraud@${r.modelVersion}: ${r.reason}`);
  const alerts: AlertRecord[] = [];
  const alertsTopic = alertsTopicFromEnv();
  await readToEnd(kafka, alertsTopic, (_p, m) => {
    const a = JSON.parse(String(m.value)) as AlertRecord;
    if (a.modelVersion?.startsWith(`${runId}-`)) alerts.push(a);
  });
  console.log(
    `  alerts for on-call (${alertsTopic}, delivered signed by \`sluice alerts run\`): ${alerts.length}`,
  );
  for (const a of alerts) console.log(`    ${a.severity} ${a.kind}: ${a.title}`);
  return requests;
}

/** What `sluice trainer run` does with each request, here in-process: train on logged served features. */
async function retrain(
  registry: FileModelRegistry,
  clickhouse: ClickHouseClient,
  requests: readonly RetrainRequestRecord[],
): Promise<void> {
  for (const request of requests) {
    const id = request.requestId.slice(0, 12);
    try {
      const result = await retrainModel({ registry, clickhouse }, request);
      const m = result.metadata.trainingMetrics;
      const auc = (k: string) => (m[k] === undefined ? 'n/a' : Number(m[k]).toFixed(3));
      console.log(
        `  ${id} -> fraud@${result.version} (${result.outcome}, stage ${result.metadata.stage}): holdout AUC ` +
          `${auc('holdoutAuc')} vs ${auc('holdoutServedAuc')} for the scores served on the same rows, ` +
          `${m.trainRows ?? '?'} training rows`,
      );
    } catch (err) {
      console.log(`  ${id} refused: ${(err as Error).message}`);
    }
  }
  console.log('  a person promotes a better version: sluice models promote fraud <version> champion');
}

async function main(): Promise<void> {
  const runId = Date.now().toString(36);
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints.kafkaBrokers, `sluice-demo-${runId}`);
  const shared = acquireClickHouse(endpoints.clickhouse);
  const clickhouse = shared.client;
  const registryClient = createRegistryClient(endpoints.schemaRegistryUrl, registryAuthFromEnv());
  const txnSerde = createAvroSerde(TxnEvent, registryClient, { topic: SOURCE });
  const labelSerde = createAvroSerde(TxnLabel, registryClient, { topic: LABELS_TOPIC });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const redis = createRedisClient(process.env, { logger: quiet });
  const workers: TopologyWorker[] = [];
  try {
    step(
      1,
      `deploy: topics, feature views, ClickHouse migrations (ClickHouse: ${endpoints.clickhouse.mode})`,
    );
    const deployed = await deployReference(kafka, clickhouse, { partitions: 6, actor: deployActor() });
    console.log(`  topics ${deployed.topics.join(', ')}\n  views  ${deployed.featureViews.join(', ')}`);

    step(2, 'train two models on synthetic data, write ONNX from Node, register champion and challenger');
    const registry = new FileModelRegistry({
      onLifecycleEvent: lifecycleEventPublisher(producer, { actor: 'demo' }),
    });
    const buildDir = path.join(DEFAULT_STATE_DIR, 'demo', runId);
    for (const [version, seed, rows, stage] of [
      [`${runId}-a`, 11, 4000, 'champion'],
      [`${runId}-b`, 23, 12000, 'challenger'],
    ] as const) {
      const built = await buildReferenceModel({
        outDir: path.join(buildDir, version),
        seed,
        rows,
        name: 'fraud',
        version,
      });
      const m = await registry.registerFromDirectory(path.dirname(built.modelPath), {
        stage,
        reason: 'demo',
      });
      console.log(
        `  fraud@${m.version} ${stage.padEnd(10)} holdout AUC ${Number(m.trainingMetrics.holdoutAuc).toFixed(3)}`,
      );
    }
    const experiment = await new FileExperimentStore().save({
      name: `demo-${runId}`,
      salt: runId,
      description: 'champion vs challenger, 50/50 by card',
      variants: [
        { name: 'champion', model: 'fraud', stage: 'champion', weight: 0.5 },
        { name: 'challenger', model: 'fraud', stage: 'challenger', weight: 0.5 },
      ],
      shadows: [],
    });

    step(3, 'start the card-features, scoring and drift topologies (one worker each, this process)');
    const features = new TopologyWorker(referenceCardFeatures(), {
      instanceId: `demo-${runId}`,
      kafka,
      endpoints,
      logger: quiet,
    });
    const scoring = await referenceScoring(kafka, {
      instanceId: `demo-${runId}`,
      decoder: txnSerde,
      experiment,
      registry,
      redis,
      clickhouse,
      logger: quiet,
    });
    const scoringWorker = new TopologyWorker(scoring.topology, {
      instanceId: `demo-${runId}`,
      kafka,
      endpoints,
      logger: quiet,
    });
    // Drift of this run's model versions: 1 min windows, since the demo's events span about 3 minutes.
    const drift = driftTopologies({
      name: `demo-drift-${runId}`,
      registry,
      fromBeginning: false,
      window: '1m',
      clickhouse,
    });
    const [driftSamplesWorker, driftWorker] = [drift.samples, drift.drift].map(
      (t) => new TopologyWorker(t, { instanceId: `demo-${runId}`, kafka, endpoints, logger: quiet }),
    ) as [TopologyWorker, TopologyWorker];
    let fatal: Error | undefined;
    // drift-samples creates the samples topic the drift topology reads, so it starts first.
    for (const w of [features, scoringWorker, driftSamplesWorker, driftWorker]) {
      w.onFatal((err) => (fatal ??= err));
      await w.start();
      workers.push(w);
    }
    const providers =
      (await register.getSingleMetric('sluice_scorer_execution_provider')?.get())?.values ?? [];
    const inUse = providers.filter((v) => v.value === 1).map((v) => v.labels.provider);
    console.log(
      `  scorers use execution provider: ${[...new Set(inUse)].join(', ') || 'unknown'} (cuda is tried first)`,
    );

    step(4, `publish ${EVENTS.toLocaleString('en-US')} Avro card transactions at ~${RATE}/s`);
    await publish(producer, (t) => txnSerde.serialize(t), runId);

    step(5, 'wait until both topologies have committed everything');
    const end = await endOffset(kafka);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const [f, s] = await Promise.all([
        committed(kafka, features.topology.name),
        committed(kafka, scoring.topology.name),
      ]);
      process.stdout.write(`  committed: features ${f}/${end}, scoring ${s}/${end}\r`);
      if (f >= end && s >= end) break;
      if (fatal) throw new Error(`a topology failed: ${fatal.message}`);
      if (Date.now() > deadline) throw new Error('the topologies did not catch up within 3 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log();
    // Then the drift chain: predictions -> samples -> windows (each stage's input is final once the one
    // before it has committed everything).
    for (const [w, topic] of [
      [driftSamplesWorker, PREDICTIONS_TOPIC],
      [driftWorker, drift.topics.samples],
    ] as const) {
      const target = await endOffset(kafka, topic);
      while ((await committed(kafka, w.topology.name, topic)) < target) {
        if (fatal) throw new Error(`a topology failed: ${fatal.message}`);
        if (Date.now() > deadline) throw new Error(`${w.topology.name} did not catch up within 3 minutes`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    console.log(`  drift topologies committed everything (${drift.samples.name}, ${drift.drift.name})`);

    step(6, 'labels arrive (fraud drawn from the synthetic ground truth of the features each event had)');
    const served = await (
      await clickhouse.query({
        query: `SELECT eventId, entity, eventTime, featureNames, featureValues FROM sluice.predictions FINAL
                WHERE experiment = '${experiment.name}' AND shadow = 0`,
        format: 'JSONEachRow',
      })
    ).json<{
      eventId: string;
      entity: string;
      eventTime: number | string;
      featureNames: string[];
      featureValues: number[];
    }>();
    const rand = seededRandom(99);
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    // The ground truth plus noise the models never see, shifted so that about 5% of transactions are fraud.
    const logits = served.map((p) => {
      const row = Object.fromEntries(p.featureNames.map((n, i) => [n, p.featureValues[i] ?? 0]));
      return groundTruthLogit(row) + 1.5 * (rand() + rand() + rand() - 1.5);
    });
    let lo = -50;
    let hi = 50;
    for (let i = 0; i < 60; i += 1) {
      const mid = (lo + hi) / 2;
      const rate = logits.reduce((a, z) => a + sigmoid(z + mid), 0) / Math.max(1, logits.length);
      if (rate > 0.05) hi = mid;
      else lo = mid;
    }
    const labels = served.map((p, i) => ({
      txnId: p.eventId,
      entity: p.entity,
      ts: Number(p.eventTime),
      isFraud: rand() < sigmoid((logits[i] ?? 0) + lo),
    }));
    await insertLabels(clickhouse, labels);
    for (let i = 0; i < labels.length; i += 1000) {
      const chunk = labels.slice(i, i + 1000);
      const messages = await Promise.all(
        chunk.map(async (l) => ({
          key: l.entity,
          value: await labelSerde.serialize({
            txnId: l.txnId,
            cardId: l.entity,
            ts: l.ts,
            isFraud: l.isFraud,
          }),
        })),
      );
      await producer.send({ topic: LABELS_TOPIC, acks: -1, messages });
    }
    console.log(
      `  ${labels.length} labels, ${labels.filter((l) => l.isFraud).length} fraud, to ClickHouse and ${LABELS_TOPIC}`,
    );

    step(7, 'what the users see');
    const reader = createOnlineFeatureReader(redis);
    const cards = [0, 1, HOT_CARDS].map((c) => `card-${runId}-${c}`); // two compromised cards, one ordinary
    const online = await reader.readMany('card_txn_1m', cards);
    console.log('  online store (Redis), view card_txn_1m:');
    cards.forEach((c, i) => console.log(`    ${c}: ${JSON.stringify(online[i] ?? null)}`));
    const offline = await (
      await clickhouse.query({
        query: `SELECT variant, count() AS n, round(avg(score), 4) AS meanScore, round(quantile(0.99)(latencyMs), 2) AS p99LatencyMs
                FROM sluice.predictions FINAL WHERE experiment = '${experiment.name}' GROUP BY variant ORDER BY variant`,
        format: 'JSONEachRow',
      })
    ).json<Record<string, unknown>>();
    console.log('  predictions (ClickHouse sluice.predictions, after FINAL):');
    for (const row of offline) console.log(`    ${JSON.stringify(row)}`);
    const requests = await printDrift(kafka, clickhouse, runId, drift.topics.retrain);
    const report = await experimentReport(clickhouse, experiment.name, { k: 100, resamples: 200 });
    console.log(`  A/B report (sluice experiments report ${experiment.name}):`);
    console.log(formatReport(report).replace(/^/gm, '    '));

    step(8, 'the trainer answers the retrain requests: new versions trained on logged served features');
    await retrain(registry, clickhouse, requests);
    if (process.env.DEMO_SERVE) {
      await serveControlPage({
        kafka,
        clickhouse,
        registry,
        topologies: [
          `${features.topology.name}=${features.topology.name}:${SOURCE}`,
          `${scoring.topology.name}=${scoring.topology.name}:${SOURCE}`,
          `${drift.samples.name}=${drift.samples.name}:${PREDICTIONS_TOPIC}`,
          `${drift.drift.name}=${drift.drift.name}:${drift.topics.samples}`,
        ].join(','),
        schemaRegistryUrl: endpoints.schemaRegistryUrl,
        experiment: experiment.name,
      });
    } else {
      console.log(
        '\n  DEMO_SERVE=1 npm run demo keeps the control page (lag, drift, A/B results) up after the run',
      );
    }
  } finally {
    for (const w of workers.reverse())
      await w.stop().catch((err: unknown) => logger.warn({ err }, 'stop failed'));
    redis.disconnect();
    await producer.disconnect().catch(() => undefined);
    await shared.release();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    logger.error({ err }, 'demo failed');
    process.exit(1);
  },
);
