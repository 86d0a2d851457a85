/**
 * Nothing lost, nothing counted twice, into the feature stores: a card-features worker process writing to
 * Redis and to the stack's ClickHouse cluster (2 shards x 2 replicas) is killed with SIGKILL mid-stream,
 * and a second worker process takes over from the last checkpoint. Afterwards every 1-minute window is in
 * ClickHouse exactly once with exactly the brute-force count and sum (FINAL, read through another node),
 * each event is in its 12 hourly hops and one session, and Redis holds each card's latest window.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Message } from 'kafkajs';
import { createClickHouseClient, type ClickHouseClient } from '../../connectors/clickhouse/index.js';
import { featureTableName } from '../../connectors/feature-sinks/index.js';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import {
  clusterNodeUrl,
  LOCAL_CLUSTER_NAME,
  LOCAL_CLUSTER_NODES,
} from '../../deploy/stack/clickhouse-cluster.js';
import { TxnEvent } from '../../schemas/index.js';
import { cardViews } from '../../topologies/features/views/index.js';
import { assertMinuteWindows, cardTxns, hoursAgo, windowClosers } from '../support/card-txns.js';
import {
  localClusterEndpoint,
  localNodeEndpoint,
  syncLocalClusterReplicas,
} from '../support/clickhouse-cluster.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  committedTotal,
  produce,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';
import { until } from '../support/until.js';
import { exited } from '../support/child-exit.js';

const kafka = testKafka();
const name = uniqueName('fv-crash');
const source = `${name}.in`;
const database = `sluice_${name.replaceAll('-', '_')}`;
const keyPrefix = `sluice-test:${name}`;
const PARTITIONS = 3;
const CARDS = 60;
const EVENTS = 40_000;
const [entryNode, , , readNode] = LOCAL_CLUSTER_NODES;
const children: ChildProcess[] = [];
const clients: ClickHouseClient[] = [];

function startWorker(instance: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/features-worker.ts'], {
    env: {
      ...process.env,
      FEATURES_TOPOLOGY: name,
      FEATURES_SOURCE: source,
      FEATURES_KEY_PREFIX: keyPrefix,
      FEATURES_INSTANCE: instance,
      CLICKHOUSE_URL: clusterNodeUrl(entryNode!),
      CLICKHOUSE_CLUSTER: LOCAL_CLUSTER_NAME,
      CLICKHOUSE_DATABASE: database,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
}

before(async () => {
  // The database of CLICKHOUSE_DATABASE exists on every node before a worker uses it (an operator's step).
  const admin = createClickHouseClient(localNodeEndpoint(entryNode!));
  clients.push(admin);
  await admin.command({
    query: `CREATE DATABASE IF NOT EXISTS ${database} ON CLUSTER ${LOCAL_CLUSTER_NAME}`,
  });
});

after(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await clients[0]
    ?.command({ query: `DROP DATABASE IF EXISTS ${database} ON CLUSTER ${LOCAL_CLUSTER_NAME}` })
    .catch(() => undefined);
  for (const c of clients) await c.close();
  const redis = new Redis(endpoints.redisUrl);
  const keys = await redis.keys(`${keyPrefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await deleteTopics(kafka, [source, ...topologyTopics(name)]);
});

test(
  'a features worker killed with SIGKILL mid-stream: the cluster and Redis end exactly as the input says',
  { timeout: 240_000 },
  async () => {
    await createTopic(kafka, source, PARTITIONS);
    const serde = createAvroSerde(TxnEvent, createRegistryClient(endpoints.schemaRegistryUrl), {
      topic: source,
    });
    const events = cardTxns(EVENTS, { cards: CARDS, t0: hoursAgo(), stepMs: 60 });
    const messages: Message[] = await Promise.all(
      events.map(async (e) => ({ key: e.cardId, value: await serde.serialize(e) })),
    );
    messages.push(...(await windowClosers(events[0]!, PARTITIONS, (e) => serde.serialize(e))));
    await produce(kafka, source, messages);
    const total = messages.length;

    const first = startWorker('w1');
    await until(
      'the first worker to commit some progress',
      async () => (await committedTotal(kafka, name, source)) > total / 10,
      {
        timeoutMs: 90_000,
        everyMs: 50,
      },
    );
    first.kill('SIGKILL');
    await exited(first);
    const atKill = await committedTotal(kafka, name, source);
    assert.ok(atKill < total, `the kill came mid-stream (committed ${atKill} of ${total}); raise EVENTS`);

    const second = startWorker('w2');
    await waitForCommittedEnd(kafka, name, source, 150_000);
    second.kill('SIGTERM');
    await exited(second);
    assert.equal(second.exitCode, 0, 'the second worker stopped cleanly');

    const tables = cardViews.map((v) => `${database}.${featureTableName(v)}`);
    await syncLocalClusterReplicas(tables);
    const reader = createClickHouseClient(localClusterEndpoint(readNode, database));
    clients.push(reader);
    const rows = async (view: (typeof cardViews)[number]) =>
      (
        await reader.query({
          query: `SELECT * FROM ${featureTableName(view)} FINAL WHERE entity LIKE 'card-%' ORDER BY entity, window_start`,
          format: 'JSONEachRow',
        })
      ).json<Record<string, string | number>>();

    const rows1m = await rows(cardViews[0]);
    assertMinuteWindows(rows1m, events);
    const sum = (list: Record<string, string | number>[], f: string) =>
      list.reduce((s, r) => s + Number(r[f]), 0);
    assert.equal(sum(await rows(cardViews[1]), 'txnCount1h'), EVENTS * 12, 'each event in its 12 hops, once');
    const sessions = await rows(cardViews[2]);
    assert.equal(sum(sessions, 'sessionTxnCount'), EVENTS, 'each event in exactly one session');

    const redis = new Redis(endpoints.redisUrl);
    try {
      for (let c = 0; c < CARDS; c += 1) {
        const entity = `card-${c}`;
        const last = rows1m.filter((r) => r.entity === entity).at(-1)!;
        const hash = await redis.hgetall(`${keyPrefix}:card_txn_1m:{${entity}}`);
        assert.equal(Number(hash.__v), Number(last.window_end), `online ${entity} holds its latest window`);
        assert.equal(Number(hash.txnCount1m), Number(last.txnCount1m), `online count of ${entity}`);
        const session = await redis.hgetall(`${keyPrefix}:card_session:{${entity}}`);
        assert.equal(
          Number(session.sessionTxnCount),
          events.filter((e) => e.cardId === entity).length,
          `online session of ${entity}`,
        );
      }
    } finally {
      redis.disconnect();
    }
  },
);
