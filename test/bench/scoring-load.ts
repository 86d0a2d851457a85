/**
 * The scoring topology under a fixed offered load: a temp model registry with the reference model as
 * champion, an experiment with one variant, online features in Redis under a unique prefix, and the
 * topology (decode -> key -> enrich -> route + score -> predictions topic) in a TopologyWorker of this
 * process, while paced-load-child.ts offers events and observes committed predictions.
 *
 * The predictions topic stamps LogAppendTime, so each prediction's Kafka timestamp is the moment the
 * broker appended it; minus the event's produce time (its `ts`, which the topology uses as event time and
 * copies into the prediction) that is the event -> prediction latency on the log.
 */
import { runJsonChild } from './json-child.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { FileExperimentStore } from '../../connectors/experiments/index.js';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import {
  createOnlineFeatureReader,
  createOnlineFeatureWriter,
  createRedisClient,
  type OnlineFeatureRow,
} from '../../connectors/redis/index.js';
import { buildReferenceModel } from '../../services/trainer/build-reference-model.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { openScoring } from '../../topologies/scoring/scoring-topology.js';
import { jsonDecoder } from '../support/json-decoder.js';
import { deleteTopics, endpoints, readAll, topologyTopics, uniqueName } from '../support/kafka.js';
import { percentile } from './latency-stats.js';
import type { PacedLoadResult } from './paced-load-child.js';
import { deleteByPrefix } from './redis-feature-bench.js';

interface Txn {
  txnId: string;
  cardId: string;
  amount: number;
  country: string;
  ts: number;
}

export interface WorkerTuning {
  readonly label: string;
  readonly barrierIntervalMs: number;
  readonly sinkMaxBatch: number;
}

export interface ScoringLoadOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly partitions: number;
  readonly cards: number;
  readonly tuning: WorkerTuning;
}

export interface ScoringLoadFigures {
  readonly tuning: WorkerTuning;
  readonly sent: number;
  readonly served: number;
  /** Served predictions / (last prediction append - first event produce), s. */
  readonly eventsPerSecond: number;
  /** Prediction LogAppendTime - event produce time, after the warm-up second, ms. */
  readonly appendP50: number;
  readonly appendP99: number;
  /** Event LogAppendTime - event produce time (Kafka's own produce latency: the floor), ms. */
  readonly floorP50: number;
  readonly floorP99: number;
  /** Observer receipt (read_committed) - event produce time, ms. */
  readonly visibleP50: number;
  readonly visibleP99: number;
  readonly sourceTopic: string;
}

const quiet = pino({ level: 'error' });
const WARM_UP_MS = 1000;

const ONLINE = [
  { name: 'txnCount1m', default: 0 },
  { name: 'amountSum1m', default: 0 },
  { name: 'amountMean1h', default: 30 },
  { name: 'merchantDistinct1h', default: 1 },
];
const EVENT = [
  { name: 'amount', default: 0 },
  { name: 'hourOfDay', default: 12 },
  { name: 'isForeign', default: 0 },
];

function runLoadChild(args: string[]): Promise<PacedLoadResult> {
  return runJsonChild('test/bench/paced-load-child.ts', args, { KAFKAJS_NO_PARTITIONER_WARNING: '1' });
}

async function writeOnlineFeatures(redis: Redis, prefix: string, view: string, cards: number) {
  const writer = createOnlineFeatureWriter(redis, { keyPrefix: prefix, ttlMs: 3_600_000 });
  const rows: OnlineFeatureRow[] = Array.from({ length: cards }, (_, c) => ({
    view,
    entity: `card-${c}`,
    version: Date.now(),
    values: {
      txnCount1m: c % 4,
      amountSum1m: 20 + (c % 300),
      amountMean1h: 25 + (c % 50),
      merchantDistinct1h: 1 + (c % 3),
    },
  }));
  for (let i = 0; i < rows.length; i += 1000) await writer.writeBatch(rows.slice(i, i + 1000));
}

async function createTopics(kafka: Kafka, id: string, partitions: number) {
  const topics = {
    source: `${id}.txn`,
    predictions: `${id}.predictions`,
    lifecycle: `${id}.lifecycle`,
    alerts: `${id}.alerts`,
  };
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic: topics.source,
          numPartitions: partitions,
          // Append time of the event itself: produce -> append is the floor of any Kafka-to-Kafka latency.
          configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        },
        {
          topic: topics.predictions,
          numPartitions: partitions,
          // The broker stamps each prediction with its append time: the latency's end point.
          configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        },
        { topic: topics.lifecycle, numPartitions: 1 },
        { topic: topics.alerts, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return topics;
}

/**
 * Runs one load test and leaves the source topic in place (the caller measures the raw consume rate on
 * it, then deletes it with `cleanup`); everything else is removed here.
 */
export async function scoringUnderLoad(kafka: Kafka, o: ScoringLoadOptions): Promise<ScoringLoadFigures> {
  const id = uniqueName('bench-scoring');
  const dir = mkdtempSync(path.join(os.tmpdir(), `${id}-`));
  const prefix = `sluice-bench:${id}`;
  const view = 'card_features';
  const redis = createRedisClient(process.env, { logger: quiet }) as Redis;
  const topics = await createTopics(kafka, id, o.partitions);
  const name = `${id}-scoring`;
  let worker: TopologyWorker | undefined;
  let stopScoring: (() => Promise<void>) | undefined;
  try {
    const registry = new FileModelRegistry({ root: path.join(dir, 'models') });
    const out = path.join(dir, 'build');
    await buildReferenceModel({ outDir: out, rows: 3000, name: 'txn-risk', version: '1' });
    await registry.registerFromDirectory(out, { stage: 'champion' });
    const experiments = new FileExperimentStore({ root: path.join(dir, 'experiments') });
    const experiment = await experiments.save({
      name: `${id}-exp`,
      salt: id,
      variants: [{ name: 'A', model: 'txn-risk', weight: 1 }],
      shadows: [],
    });
    await writeOnlineFeatures(redis, prefix, view, o.cards);

    const scoring = await openScoring<Txn>(kafka, {
      name,
      instanceId: 'bench',
      sourceTopic: topics.source,
      decoder: jsonDecoder<Txn>(),
      eventTime: (t) => t.ts,
      entity: (t) => t.cardId,
      eventId: (t) => t.txnId,
      experiment,
      registry,
      features: {
        reader: createOnlineFeatureReader(redis, { keyPrefix: prefix }),
        view,
        online: ONLINE,
        event: EVENT,
        fromEvent: (t) => ({
          amount: t.amount,
          hourOfDay: new Date(t.ts).getUTCHours(),
          isForeign: t.country === 'DE' ? 0 : 1,
        }),
      },
      predictionsTopic: topics.predictions,
      lifecycleTopic: topics.lifecycle,
      alertsTopic: topics.alerts,
      logger: quiet,
      // No GPU on the bench hosts: asking for cuda first only adds ORT's load-failure message to the output.
      scorer: { logger: quiet, preferredProviders: ['cpu'] },
    });
    stopScoring = () => scoring.stop();
    worker = new TopologyWorker(scoring.topology, {
      instanceId: 'bench',
      kafka,
      endpoints,
      logger: quiet,
      barrierIntervalMs: o.tuning.barrierIntervalMs,
      sinkMaxBatch: o.tuning.sinkMaxBatch,
    });
    await worker.start();

    const load = await runLoadChild([
      topics.source,
      topics.predictions,
      String(o.rate),
      String(o.seconds),
      String(o.cards),
    ]);
    await worker.stop();
    worker = undefined;

    const predictions = await readAll(kafka, topics.predictions);
    const measureFrom = load.firstSendAt + WARM_UP_MS;
    const appendLatencies: number[] = [];
    let served = 0;
    let lastAppend = 0;
    for (const m of predictions) {
      const p = JSON.parse(m.value?.toString('utf8') ?? '{}') as { shadow: boolean; eventTime: number };
      if (p.shadow) continue;
      served += 1;
      const appendedAt = Number(m.timestamp);
      lastAppend = Math.max(lastAppend, appendedAt);
      if (p.eventTime >= measureFrom) appendLatencies.push(appendedAt - p.eventTime);
    }
    if (appendLatencies.length === 0)
      throw new Error(`no served predictions after the warm-up (${served} in all)`);
    const floor: number[] = [];
    for (const m of await readAll(kafka, topics.source)) {
      const event = JSON.parse(m.value?.toString('utf8') ?? '{}') as Txn;
      if (event.ts >= measureFrom) floor.push(Number(m.timestamp) - event.ts);
    }
    return {
      tuning: o.tuning,
      sent: load.sent,
      served,
      eventsPerSecond: (served * 1000) / (lastAppend - load.firstSendAt),
      appendP50: percentile(appendLatencies, 50),
      appendP99: percentile(appendLatencies, 99),
      floorP50: percentile(floor, 50),
      floorP99: percentile(floor, 99),
      visibleP50: load.visibleP50,
      visibleP99: load.visibleP99,
      sourceTopic: topics.source,
    };
  } finally {
    await worker?.stop().catch(() => undefined);
    await stopScoring?.().catch(() => undefined);
    await deleteByPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await deleteTopics(kafka, [topics.predictions, topics.lifecycle, topics.alerts, ...topologyTopics(name)]);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([name]).catch(() => undefined);
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
