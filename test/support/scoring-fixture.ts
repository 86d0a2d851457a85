/**
 * Shared setup of the scoring integration tests (not a test file itself): a temp model registry with
 * reference models, online features in Redis, an experiment, synthetic transactions, and a running
 * scoring topology writing to Kafka and to an embedded ClickHouse.
 */
import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { pino } from 'pino';
import { createClickHouseClient, type ClickHouseClient } from '../../connectors/clickhouse/index.js';
import { FileExperimentStore, type ExperimentDraft } from '../../connectors/experiments/index.js';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import type { ModelCandidate, ModelStage } from '../../connectors/model-registry/model-metadata.js';
import {
  createOnlineFeatureReader,
  createOnlineFeatureWriter,
  createRedisClient,
  type RedisConnection,
} from '../../connectors/redis/index.js';
import { buildReferenceModel, sha256Hex } from '../../services/trainer/build-reference-model.js';
import { lifecycleEventPublisher } from '../../topologies/scoring/lifecycle-publisher.js';
import { openScoring, type Scoring, type ScoringOptions } from '../../topologies/scoring/scoring-topology.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { jsonDecoder } from './json-decoder.js';
import { createTopic, endpoints, uniqueName } from './kafka.js';

export interface Txn {
  txnId: string;
  cardId: string;
  amount: number;
  country: string;
  ts: number;
}

export const quiet = pino({ level: 'error' });

export const ONLINE_FEATURES = [
  { name: 'txnCount1m', default: 0 },
  { name: 'amountSum1m', default: 0 },
  { name: 'amountMean1h', default: 30 },
  { name: 'merchantDistinct1h', default: 1 },
];
export const EVENT_FEATURES = [
  { name: 'amount', default: 0 },
  { name: 'hourOfDay', default: 12 },
  { name: 'isForeign', default: 0 },
];

export function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface Fixture {
  readonly id: string;
  readonly dir: string;
  readonly registry: FileModelRegistry;
  readonly experiments: FileExperimentStore;
  readonly redis: RedisConnection;
  readonly view: string;
  readonly topics: { source: string; predictions: string; lifecycle: string; alerts: string };
  readonly producer: Producer;
  clickhouse?: ClickHouseClient;
}

export async function createFixture(kafka: Kafka, prefix: string): Promise<Fixture> {
  const id = uniqueName(prefix);
  const dir = mkdtempSync(path.join(os.tmpdir(), `${id}-`));
  const topics = {
    source: `${id}.txn`,
    predictions: `${id}.predictions`,
    lifecycle: `${id}.lifecycle`,
    alerts: `${id}.alerts`,
  };
  await createTopic(kafka, topics.lifecycle, 1);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const registry = new FileModelRegistry({
    root: path.join(dir, 'models'),
    onLifecycleEvent: lifecycleEventPublisher(producer, { actor: 'test', topic: topics.lifecycle }),
  });
  return {
    id,
    dir,
    registry,
    experiments: new FileExperimentStore({ root: path.join(dir, 'experiments') }),
    redis: createRedisClient(process.env, { logger: quiet }),
    view: `${id}-card`,
    topics,
    producer,
  };
}

/** Builds the reference model with a given seed and registers it under name@version. */
export async function registerModel(
  f: Fixture,
  name: string,
  version: string,
  seed: number,
  stage: ModelStage,
): Promise<string> {
  const out = path.join(f.dir, 'build', `${name}-${version}`);
  await buildReferenceModel({ outDir: out, seed, rows: 3000, name, version });
  await f.registry.registerFromDirectory(out, { stage });
  return out;
}

/**
 * Publishes hand-built model bytes with `candidate`'s metadata as a shadow version, the way the trainer
 * publishes (a build folder, then registerFromDirectory); the checksum is computed here from the bytes.
 */
export async function registerBuiltModel(
  f: Fixture,
  bytes: Uint8Array,
  candidate: Omit<ModelCandidate, 'sha256'>,
): Promise<void> {
  const dir = path.join(f.dir, 'build', `${candidate.name}-${candidate.version}-built`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.onnx'), bytes);
  await writeFile(
    path.join(dir, 'metadata.json'),
    JSON.stringify({ ...candidate, sha256: sha256Hex(bytes) }),
  );
  await f.registry.registerFromDirectory(dir, { stage: 'shadow' });
}

export async function saveExperiment(f: Fixture, draft: Omit<ExperimentDraft, 'name'>) {
  return f.experiments.save({ name: `${f.id}-exp`, ...draft });
}

/** Online features for every card whose index is not a multiple of 10 (those get defaults). */
export async function writeOnlineFeatures(f: Fixture, cards: number): Promise<void> {
  const writer = createOnlineFeatureWriter(f.redis, { ttlMs: 3_600_000 });
  const rows = [];
  for (let c = 0; c < cards; c++) {
    if (c % 10 === 0) continue;
    rows.push({
      view: f.view,
      entity: `card-${c}`,
      version: Date.now(),
      values: {
        txnCount1m: c % 4,
        amountSum1m: 20 + (c % 300),
        amountMean1h: 25 + (c % 50),
        merchantDistinct1h: 1 + (c % 3),
      },
    });
  }
  for (let i = 0; i < rows.length; i += 1000) await writer.writeBatch(rows.slice(i, i + 1000));
}

export function makeTxns(count: number, cards: number, seed: number, start = 0): Txn[] {
  const rand = lcg(seed);
  const now = Date.now();
  return Array.from({ length: count }, (_, k) => {
    const i = start + k;
    return {
      txnId: `t-${i}`,
      cardId: `card-${Math.floor(rand() * cards)}`,
      amount: Math.round(Math.exp(3.4 + rand()) * 100) / 100,
      country: rand() < 0.12 ? 'FR' : 'DE',
      ts: now - 60_000 + (i % 1000),
    };
  });
}

export const txnMessages = (txns: readonly Txn[]) =>
  txns.map((t) => ({ key: t.cardId, value: JSON.stringify(t) }));

export async function openClickHouse(f: Fixture): Promise<ClickHouseClient> {
  f.clickhouse = createClickHouseClient({ mode: 'embedded', path: path.join(f.dir, 'chdb') });
  return f.clickhouse;
}

/** What a scoring topology over the fixture's topics, registry and features is opened with. */
export function scoringOptions(
  f: Pick<Fixture, 'id' | 'topics' | 'view' | 'redis' | 'registry' | 'clickhouse'>,
  experiment: ScoringOptions<Txn>['experiment'],
  instanceId: string,
): ScoringOptions<Txn> {
  return {
    name: `${f.id}-scoring`,
    instanceId,
    sourceTopic: f.topics.source,
    decoder: jsonDecoder<Txn>(),
    eventTime: (t) => t.ts,
    entity: (t) => t.cardId,
    eventId: (t) => t.txnId,
    experiment,
    registry: f.registry,
    features: {
      reader: createOnlineFeatureReader(f.redis),
      view: f.view,
      online: ONLINE_FEATURES,
      event: EVENT_FEATURES,
      fromEvent: (t) => ({
        amount: t.amount,
        hourOfDay: new Date(t.ts).getUTCHours(),
        isForeign: t.country === 'DE' ? 0 : 1,
      }),
    },
    predictionsTopic: f.topics.predictions,
    lifecycleTopic: f.topics.lifecycle,
    alertsTopic: f.topics.alerts,
    clickhouse: f.clickhouse,
    logger: quiet,
    scorer: { logger: quiet },
  };
}

export async function startScoring(
  kafka: Kafka,
  f: Fixture,
  experimentName: string,
  extra: Partial<ScoringOptions<Txn>> = {},
): Promise<{ scoring: Scoring; worker: TopologyWorker }> {
  const experiment = await f.experiments.get(experimentName);
  const scoring = await openScoring<Txn>(kafka, { ...scoringOptions(f, experiment, 'w1'), ...extra });
  const worker = new TopologyWorker(scoring.topology, {
    instanceId: 'w1',
    kafka,
    endpoints,
    logger: quiet,
    barrierIntervalMs: 200,
    sinkMaxBatch: 500,
  });
  await worker.start();
  return { scoring, worker };
}

/** Waits until the group's committed offsets reach `total` records over all partitions. */
export async function waitForCommitted(
  kafka: Kafka,
  groupId: string,
  topic: string,
  total: number,
  timeoutMs: number,
) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const sum = (offsets?.partitions ?? []).reduce(
        (s, p) => s + (p.offset === '-1' ? 0 : Number(p.offset)),
        0,
      );
      if (sum >= total) return sum;
      if (Date.now() > deadline) throw new Error(`only ${sum} of ${total} records committed in time`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

export async function queryRows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

export async function cleanup(kafka: Kafka, f: Fixture, scoringName: string): Promise<void> {
  await f.producer.disconnect().catch(() => undefined);
  f.redis.disconnect();
  await f.clickhouse?.close().catch(() => undefined);
  const admin = kafka.admin();
  await admin.connect();
  const topics = [
    ...Object.values(f.topics),
    `${scoringName}-changelog`,
    `${scoringName}.dlq`,
    `${scoringName}.late`,
  ];
  const existing = new Set(await admin.listTopics());
  await admin.deleteTopics({ topics: topics.filter((t) => existing.has(t)) }).catch(() => undefined);
  await admin.deleteGroups([scoringName]).catch(() => undefined);
  await admin.disconnect();
}
