/**
 * The cluster layout chosen by CLICKHOUSE_CLUSTER: configuration errors, which client carries it, and the
 * DDL it renders (the real cluster runs that DDL in test/integration/clickhouse-cluster.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createClickHouseClient,
  dropReplacingTableStatements,
  replacingMergeTreeDDL,
  replacingTableStatements,
  SINGLE_NODE,
  tableLayoutOf,
  type ReplacingTableSpec,
} from '../../connectors/clickhouse/index.js';
import { ConfigError, loadEndpoints } from '../../connectors/config/endpoints.js';

const spec: ReplacingTableSpec = {
  table: 'fv_card_v1',
  columns: [
    ['entity', 'String'],
    ['window_start', 'UInt64'],
    ['version', 'UInt64'],
    ['amount', 'Float64'],
  ],
  orderBy: ['entity', 'window_start'],
  versionColumn: 'version',
  partitionBy: 'intDiv(window_start, 86400000)',
  shardBy: ['entity'],
};
const cluster = { kind: 'cluster', cluster: 'analytics', database: 'features' } as const;

describe('CLICKHOUSE_CLUSTER', () => {
  it('is read with the server it belongs to', () => {
    const e = loadEndpoints({ CLICKHOUSE_URL: 'http://ch-0:8123', CLICKHOUSE_CLUSTER: 'analytics' });
    assert.equal(e.clickhouse.mode === 'http' && e.clickhouse.cluster, 'analytics');
    const plain = loadEndpoints({ CLICKHOUSE_URL: 'http://ch-0:8123' });
    assert.equal(plain.clickhouse.mode === 'http' && plain.clickhouse.cluster, undefined);
  });

  it('fails fast without a server, or with a name ClickHouse would not take', () => {
    assert.throws(
      () => loadEndpoints({ CLICKHOUSE_CLUSTER: 'analytics' }),
      (err: Error) => err instanceof ConfigError && /needs CLICKHOUSE_URL/.test(err.message),
    );
    assert.throws(
      () => loadEndpoints({ CLICKHOUSE_URL: 'http://ch-0:8123', CLICKHOUSE_CLUSTER: 'my-cluster' }),
      (err: Error) => err instanceof ConfigError && /<remote_servers>/.test(err.message),
    );
  });

  it('goes with the client made for the endpoint', async () => {
    const e = loadEndpoints({ CLICKHOUSE_URL: 'http://127.0.0.1:1', CLICKHOUSE_CLUSTER: 'analytics' });
    const clustered = createClickHouseClient(e.clickhouse);
    const single = createClickHouseClient(loadEndpoints({ CLICKHOUSE_URL: 'http://127.0.0.1:1' }).clickhouse);
    try {
      assert.deepEqual(tableLayoutOf(clustered), {
        kind: 'cluster',
        cluster: 'analytics',
        database: 'default',
      });
      assert.equal(tableLayoutOf(single), SINGLE_NODE);
      assert.equal(tableLayoutOf({}), SINGLE_NODE, 'a client made elsewhere is single-node');
    } finally {
      await clustered.close();
      await single.close();
    }
  });
});

describe('replacing table DDL per layout', () => {
  it('is the plain ReplacingMergeTree on one node', () => {
    assert.deepEqual(replacingTableStatements(spec, SINGLE_NODE), [replacingMergeTreeDDL(spec)]);
  });

  it('is a Replicated local table and a Distributed table sharded by the key on a cluster', () => {
    const [local, distributed] = replacingTableStatements(spec, cluster);
    assert.equal(
      local,
      'CREATE TABLE IF NOT EXISTS features.fv_card_v1_local ON CLUSTER analytics ' +
        '(entity String, window_start UInt64, version UInt64, amount Float64) ' +
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/features/fv_card_v1', '{replica}', version) " +
        'PARTITION BY intDiv(window_start, 86400000) ORDER BY (entity, window_start)',
    );
    assert.equal(
      distributed,
      'CREATE TABLE IF NOT EXISTS features.fv_card_v1 ON CLUSTER analytics AS features.fv_card_v1_local ' +
        'ENGINE = Distributed(analytics, features, fv_card_v1_local, sipHash64(entity))',
    );
    const [qualified] = replacingTableStatements({ ...spec, table: 'sluice.labels' }, cluster);
    assert.match(qualified!, /^CREATE TABLE IF NOT EXISTS sluice\.labels_local ON CLUSTER/);
  });

  it('shards by the whole sort key unless told, and never by a column outside it', () => {
    const [, distributed] = replacingTableStatements({ ...spec, shardBy: undefined }, cluster);
    assert.match(distributed!, /sipHash64\(entity, window_start\)\)$/);
    assert.throws(
      () => replacingTableStatements({ ...spec, shardBy: ['amount'] }, cluster),
      /shardBy must be a non-empty subset of orderBy/,
    );
  });
  it('is dropped as it was created: the Distributed table, then the local ones on every node', () => {
    assert.deepEqual(dropReplacingTableStatements('fv_card_v1', SINGLE_NODE), [
      'DROP TABLE IF EXISTS fv_card_v1',
    ]);
    assert.deepEqual(dropReplacingTableStatements('fv_card_v1', cluster), [
      'DROP TABLE IF EXISTS features.fv_card_v1 ON CLUSTER analytics',
      'DROP TABLE IF EXISTS features.fv_card_v1_local ON CLUSTER analytics',
    ]);
    assert.deepEqual(dropReplacingTableStatements('sluice.labels', cluster), [
      'DROP TABLE IF EXISTS sluice.labels ON CLUSTER analytics',
      'DROP TABLE IF EXISTS sluice.labels_local ON CLUSTER analytics',
    ]);
    assert.throws(() => dropReplacingTableStatements('x; DROP DATABASE y', cluster));
  });
});
