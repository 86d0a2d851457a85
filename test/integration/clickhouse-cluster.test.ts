/**
 * The offline store on a real ClickHouse cluster: the stack's cluster "sluice" (ZooKeeper and four
 * clickhouse-server 18.16 nodes, 2 shards x 2 replicas, `sluice stack up --with-clickhouse-cluster`).
 * - Migrations through one node create Replicated tables and a Distributed table on every node, and any
 *   other node then sees them applied; raw SQL, which would change one node only, is refused.
 * - A features topology writes through the cluster while one replica is killed -9 and restarted; a
 *   second worker replays the whole source. Read through another node, FINAL equals a brute-force
 *   reference, every entity lives on exactly one shard, and the replicas of each shard agree.
 * Each run works in a database of its own, so runs never see each other's rows.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Message } from 'kafkajs';
import { ConfigError } from '../../connectors/config/endpoints.js';
import {
  applyMigrations,
  countRaw,
  createClickHouseClient,
  MigrationError,
  type ClickHouseClient,
} from '../../connectors/clickhouse/index.js';
import { migratePredictionTables } from '../../connectors/clickhouse-tables/predictions.js';
import { featureTableName } from '../../connectors/feature-sinks/index.js';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import {
  LOCAL_CLUSTER_NAME,
  LOCAL_CLUSTER_NODES,
  type ClusterNode,
} from '../../deploy/stack/clickhouse-cluster.js';
import { stackPaths } from '../../deploy/stack/paths.js';
import { TxnEvent, type TxnEventRecord } from '../../schemas/index.js';
import { migrateDriftTables } from '../../topologies/drift/drift-table.js';
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
import { assertMinuteWindows, cardTxns, hoursAgo, windowClosers } from '../support/card-txns.js';
import {
  localClusterEndpoint,
  localNodeEndpoint,
  syncLocalClusterReplicas,
} from '../support/clickhouse-cluster.js';
import { runSluice } from '../support/sluice-cli.js';

const kafka = testKafka();
const run = uniqueName('chc').replace('-', '_');
const database = `sluice_${run}`;
// Writes enter through shard 1's first replica; reads go through shard 2's second; s2r1 is the one killed.
const [entryNode, , s2r1, readNode] = LOCAL_CLUSTER_NODES as [
  ClusterNode,
  ClusterNode,
  ClusterNode,
  ClusterNode,
];
const clusterEndpoint = (node: ClusterNode) => localClusterEndpoint(node, database);
/** A plain client of one node, for looking at what that node itself holds. */
const nodeClient = (node: ClusterNode, db = database) => createClickHouseClient(localNodeEndpoint(node, db));

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

function sluice(args: string[]): { status: number | null; output: string } {
  const res = runSluice(args, { timeoutMs: 120_000 });
  return { status: res.status, output: `${res.stdout}\n${res.stderr}` };
}

const clients: ClickHouseClient[] = [];
const track = (c: ClickHouseClient) => (clients.push(c), c);

before(async () => {
  const up = sluice(['stack', 'up', '--with-clickhouse-cluster']);
  assert.equal(up.status, 0, `the local ClickHouse cluster is up:\n${up.output}`);
  // The endpoint's database must exist before a client can use it; an operator creates it once.
  const admin = track(nodeClient(entryNode, 'default'));
  await admin.command({
    query: `CREATE DATABASE IF NOT EXISTS ${database} ON CLUSTER ${LOCAL_CLUSTER_NAME}`,
  });
});

after(async () => {
  const admin = nodeClient(entryNode, 'default');
  await admin
    .command({ query: `DROP DATABASE IF EXISTS ${database} ON CLUSTER ${LOCAL_CLUSTER_NAME}` })
    .catch(() => undefined);
  await admin.close();
  for (const c of clients) await c.close();
});

describe('ClickHouse cluster layout', () => {
  it('migrations through one node build every node; another node sees them applied', async () => {
    const viaEntry = track(createClickHouseClient(clusterEndpoint(entryNode)));
    const viaOther = track(createClickHouseClient(clusterEndpoint(readNode)));
    const drift = `${database}.drift_metrics`;
    const first = await migrateDriftTables(viaEntry, drift);
    assert.deepEqual(first, { applied: [1], alreadyApplied: [] });
    assert.deepEqual(await migrateDriftTables(viaOther, drift), { applied: [], alreadyApplied: [1] });
    // The platform's fixed tables (sluice.predictions, sluice.labels) too; a local rerun finds them made.
    await migratePredictionTables(viaEntry);
    assert.deepEqual(await migratePredictionTables(viaOther), { applied: [], alreadyApplied: [1] });

    for (const node of LOCAL_CLUSTER_NODES) {
      const engines = new Map(
        (
          await rows<{ name: string; engine: string }>(
            track(nodeClient(node, 'default')),
            `SELECT name, engine FROM system.tables WHERE database = '${database}'`,
          )
        ).map((t) => [t.name, t.engine]),
      );
      assert.equal(engines.get('drift_metrics_local'), 'ReplicatedReplacingMergeTree', `${node.name}`);
      assert.equal(engines.get('drift_metrics'), 'Distributed', `${node.name}`);
      assert.equal(engines.get('drift_metrics_migrations'), 'ReplicatedMergeTree', `${node.name}`);
    }
  });

  it('refuses a cluster the servers do not know, naming the ones they do', async () => {
    const client = track(
      createClickHouseClient({ ...clusterEndpoint(entryNode), cluster: 'no_such_cluster' }),
    );
    await assert.rejects(
      migrateDriftTables(client, `${database}.drift_elsewhere`),
      (err: Error) =>
        err instanceof ConfigError &&
        /CLICKHOUSE_CLUSTER=no_such_cluster is not a cluster of the server .* has sluice/.test(err.message),
    );
  });

  it('refuses raw SQL on a cluster before changing anything', async () => {
    const client = track(createClickHouseClient(clusterEndpoint(entryNode)));
    await assert.rejects(
      applyMigrations(
        client,
        [{ version: 1, name: 'raw', up: [`CREATE TABLE ${database}.raw (a UInt8) ENGINE = Memory`] }],
        { table: `${database}.raw_migrations` },
      ),
      (err: Error) =>
        err instanceof MigrationError &&
        /raw SQL, which would change one node of cluster sluice only/.test(err.message),
    );
    for (const node of LOCAL_CLUSTER_NODES) {
      const [exists] = await rows<{ result: number }>(
        track(nodeClient(node, 'default')),
        `EXISTS TABLE ${database}.raw`,
      );
      assert.equal(Number(exists?.result), 0, `${node.name} has no table raw`);
    }
  });

  it(
    'a features topology writes through the cluster, a replica killed -9 mid-stream, then a full replay: FINAL is exact, shards disjoint, replicas equal',
    { timeout: 240_000 },
    async () => {
      const name = uniqueName('chc-features');
      const source = `${name}.in`;
      const replayName = `${name}-replay`;
      await createTopic(kafka, source, 3);
      const serde = createAvroSerde(TxnEvent, createRegistryClient(endpoints.schemaRegistryUrl), {
        topic: source,
      });
      const events = cardTxns(900, { cards: 24, t0: hoursAgo(), stepMs: 1500 });
      const encode = async (list: readonly TxnEventRecord[]): Promise<Message[]> =>
        Promise.all(list.map(async (e) => ({ key: e.cardId, value: await serde.serialize(e) })));
      const flush = await windowClosers(events[0]!, 3, (e) => serde.serialize(e));

      const runWorker = async (topologyName: string, midStream?: () => Promise<void>) => {
        const t = cardFeaturesTopology({
          name: topologyName,
          sourceTopic: source,
          featuresTopic: null,
          decoder: serde,
        });
        const worker = new TopologyWorker(t, {
          instanceId: `${topologyName}-1`,
          kafka,
          endpoints: { ...endpoints, clickhouse: clusterEndpoint(entryNode) },
          barrierIntervalMs: 200,
        });
        let fatal: Error | undefined;
        worker.onFatal((e) => (fatal = e));
        await worker.start();
        try {
          await midStream?.();
          await waitForCommittedEnd(kafka, topologyName, source, 120_000);
        } finally {
          await worker.stop();
        }
        assert.equal(fatal, undefined, `worker ${topologyName} did not fail`);
      };

      const pidFile = path.join(stackPaths().pidsDir, `${s2r1.name}.pid`);
      await runWorker(name, async () => {
        await produce(kafka, source, await encode(events.slice(0, 450)));
        await new Promise((r) => setTimeout(r, 1500));
        // One replica of shard 2 dies without warning; its shard keeps taking writes on the other one.
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
        await produce(kafka, source, [...(await encode(events.slice(450))), ...flush]);
      });
      const restart = sluice(['stack', 'up', '--with-clickhouse-cluster']);
      assert.equal(restart.status, 0, `the killed replica restarts:\n${restart.output}`);
      assert.match(
        restart.output,
        new RegExp(`${s2r1.name}\\s+ready`),
        'the stack started the killed node again',
      );

      // The replay: a second topology over the same source writes every window again. (How many copies
      // stay visible is not asserted: merges, and the replicas' dedup of identical blocks, remove them
      // whenever they like. FINAL below must be exact either way.)
      await runWorker(replayName);

      // The restarted replica fetches what it missed in the background; until it has, reads that reach it
      // are short (the README says so). Each replica catches up first, and is checked against its twin below.
      const table = featureTableName(cardViews[0]);
      await syncLocalClusterReplicas(cardViews.map((view) => `${database}.${featureTableName(view)}`));
      const reader = track(createClickHouseClient(clusterEndpoint(readNode)));
      const final = await rows<Record<string, string | number>>(
        reader,
        `SELECT * FROM ${table} FINAL WHERE entity LIKE 'card-%' ORDER BY entity, window_start`,
      );
      assertMinuteWindows(final, events);
      const [hops] = await rows<{ n: string }>(
        reader,
        `SELECT sum(txnCount1h) AS n FROM ${featureTableName(cardViews[1])} FINAL WHERE entity LIKE 'card-%'`,
      );
      assert.equal(Number(hops!.n), events.length * 12, 'each event counted in its 12 hops, once');

      // Where the rows live: each shard's replicas hold the same rows, and no entity is on two shards.
      const entitiesByShard = new Map<number, Set<string>>();
      for (const shard of [1, 2]) {
        const [a, b] = LOCAL_CLUSTER_NODES.filter((n) => n.shard === shard).map((n) => track(nodeClient(n)));
        const counts = [await countRaw(a!, `${table}_local`), await countRaw(b!, `${table}_local`)];
        assert.ok(counts[0]! > 0, `shard ${shard} holds rows`);
        assert.equal(counts[0], counts[1], `both replicas of shard ${shard} hold the same rows`);
        const entities = await rows<{ entity: string }>(a!, `SELECT DISTINCT entity FROM ${table}_local`);
        entitiesByShard.set(shard, new Set(entities.map((e) => e.entity)));
      }
      const [one, two] = [entitiesByShard.get(1)!, entitiesByShard.get(2)!];
      assert.deepEqual(
        [...one].filter((e) => two.has(e)),
        [],
        'no entity on both shards',
      );
      assert.equal(one.size + two.size, 24, "every card on one shard (the flush events' windows stay open)");

      await deleteTopics(kafka, [source, ...topologyTopics(name), ...topologyTopics(replayName)]);
    },
  );
});
