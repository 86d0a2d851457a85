/**
 * Replaying the features topology is harmless: a second consumer group reading the same input and
 * writing to the same stores leaves the Redis hashes and the ClickHouse tables (after FINAL) exactly as
 * one pass left them. The first pass is also checked against a brute-force computation of the input.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Message } from 'kafkajs';
import { acquireClickHouse, featureTableName } from '../../connectors/feature-sinks/index.js';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import { TxnEvent, type TxnEventRecord } from '../../schemas/index.js';
import { cardFeaturesTopology } from '../../topologies/features/card-features.js';
import { cardViews } from '../../topologies/features/views/index.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  produce,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';
import { cardTxns, hoursAgo, windowClosers } from '../support/card-txns.js';

const kafka = testKafka();
const name = uniqueName('fv-replay');
const source = `${name}.in`;
const featuresTopic = `${name}.features`;
const keyPrefix = `sluice-test:${name}`;
const chdbDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-fv-replay-'));
const PARTITIONS = 3;
const MIN = 60_000;

async function topicSize(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function redisSnapshot(redis: Redis): Promise<Record<string, Record<string, string>>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const out: Record<string, Record<string, string>> = {};
  for (const k of keys.sort()) out[k] = await redis.hgetall(k);
  return out;
}

async function tableSnapshot(): Promise<Record<string, Record<string, unknown>[]>> {
  const { client, release } = acquireClickHouse({ mode: 'embedded', path: chdbDir });
  try {
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const v of cardViews) {
      const table = featureTableName(v);
      const result = await client.query({
        query: `SELECT * FROM ${table} FINAL ORDER BY entity, window_start`,
        format: 'JSONEachRow',
      });
      out[table] = await result.json<Record<string, unknown>>();
    }
    return out;
  } finally {
    await release();
  }
}

async function runPass(
  topologyName: string,
  decoder: ReturnType<typeof createAvroSerde<TxnEventRecord>>,
): Promise<void> {
  const t = cardFeaturesTopology({
    name: topologyName,
    sourceTopic: source,
    featuresTopic,
    decoder,
    featureSerializer: (row) => Buffer.from(JSON.stringify(row)),
    online: { keyPrefix },
  });
  const worker = new TopologyWorker(t, {
    instanceId: 'r1',
    kafka,
    endpoints: { ...endpoints, clickhouse: { mode: 'embedded', path: chdbDir } },
    barrierIntervalMs: 200,
  });
  let fatal: Error | undefined;
  worker.onFatal((e) => (fatal = e));
  await worker.start();
  try {
    await waitForCommittedEnd(kafka, topologyName, source, 60_000);
  } finally {
    await worker.stop();
  }
  assert.equal(fatal, undefined, 'no worker failure');
}

test(
  'a second pass over the same input leaves both stores exactly as one pass did',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, source, PARTITIONS);
    const serde = createAvroSerde(TxnEvent, createRegistryClient(endpoints.schemaRegistryUrl), {
      topic: source,
    });
    // 20 minutes in all, increasing: nothing is late.
    const events = cardTxns(600, {
      cards: 20,
      t0: hoursAgo(),
      stepMs: 2000,
      amountStep: 37,
      amountRange: 500,
    });
    const messages: Message[] = [];
    for (const e of events) messages.push({ key: e.cardId, value: await serde.serialize(e) });
    messages.push(...(await windowClosers(events[0]!, PARTITIONS, (e) => serde.serialize(e))));
    await produce(kafka, source, messages);

    await runPass(name, serde);
    const redis = new Redis(endpoints.redisUrl);
    try {
      const online1 = await redisSnapshot(redis);
      const offline1 = await tableSnapshot();

      // Pass 1 against the input, computed by brute force.
      const perMinute = new Map<string, number>();
      for (const e of events) {
        const k = `${e.cardId}@${Math.floor(e.ts / MIN) * MIN}`;
        perMinute.set(k, (perMinute.get(k) ?? 0) + 1);
      }
      const rows1m = offline1[featureTableName(cardViews[0])]!;
      assert.equal(rows1m.length, perMinute.size, 'one 1-minute row per card and minute');
      for (const r of rows1m)
        assert.equal(r.txnCount1m, perMinute.get(`${String(r.entity)}@${Number(r.window_start)}`));
      const total = (rows: Record<string, unknown>[], f: string) =>
        rows.reduce((s, r) => s + Number(r[f]), 0);
      assert.equal(
        total(offline1[featureTableName(cardViews[1])]!, 'txnCount1h'),
        events.length * 12,
        'each event in 12 hops',
      );
      assert.equal(total(offline1[featureTableName(cardViews[2])]!, 'sessionTxnCount'), events.length);
      assert.equal(offline1[featureTableName(cardViews[2])]!.length, 20, 'one session per card');
      assert.equal(Object.keys(online1).length, 60, 'one hash per card and view');
      const latest1m = online1[`${keyPrefix}:card_txn_1m:{card-0}`]!;
      const last0 = rows1m.filter((r) => r.entity === 'card-0').at(-1)!;
      assert.equal(Number(latest1m.__v), Number(last0.window_end), 'online holds the latest window');
      assert.equal(Number(latest1m.txnCount1m), last0.txnCount1m);

      const rowsPerPass = Object.values(offline1).reduce((n, rows) => n + rows.length, 0);
      assert.equal(await topicSize(featuresTopic), rowsPerPass, 'pass 1 emitted each feature row once');
      await runPass(`${name}-again`, serde);
      // The second pass really wrote every row again (the features topic, unlike the stores, keeps both).
      assert.equal(await topicSize(featuresTopic), 2 * rowsPerPass, 'pass 2 re-emitted every feature row');
      assert.deepEqual(await redisSnapshot(redis), online1, 'Redis hashes after two passes equal one pass');
      assert.deepEqual(
        await tableSnapshot(),
        offline1,
        'ClickHouse rows (FINAL) after two passes equal one pass',
      );
    } finally {
      const keys = Object.keys(await redisSnapshot(redis));
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  },
);

after(async () => {
  await deleteTopics(kafka, [
    source,
    featuresTopic,
    ...topologyTopics(name),
    ...topologyTopics(`${name}-again`),
  ]);
  rmSync(chdbDir, { recursive: true, force: true });
});
