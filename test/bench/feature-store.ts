/**
 * Feature store (issue 4): online writes and reads on Redis and offline inserts on ClickHouse (embedded
 * chdb and the HTTP server), each beside a baseline measured on the same server in the same run.
 */
import { runJsonChild } from './json-child.js';
import { createClickHouseClient } from '../../connectors/clickhouse/index.js';
import {
  clusterNodeUrl,
  LOCAL_CLUSTER_NAME,
  LOCAL_CLUSTER_NODES,
} from '../../deploy/stack/clickhouse-cluster.js';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { measureClickHouseInserts, type ClickHouseInsertRates } from './clickhouse-insert-rate.js';
import type { Figure, Section } from './report.js';
import { benchRedisReads, benchRedisWrites } from './redis-feature-bench.js';
import { uniqueName } from '../support/kafka.js';

export interface FeatureStoreBenchOptions {
  /** Rows per Redis write round (default 50,000). */
  readonly redisRows?: number;
  /** Rows per pipeline for the writer and for redis-benchmark -P (default 1,000: the writer's default). */
  readonly pipeline?: number;
  /** Rows per ClickHouse insert round (default 50,000). */
  readonly clickhouseRows?: number;
  /** Rows per INSERT of the batch writer (default 5,000: the offline sink's default). */
  readonly clickhouseMaxRows?: number;
  readonly readIterations?: number;
}

const ROUNDS = 3;

/** Runs the chdb measurement in its own process (chdb allows one data folder per process). */
function chdbInsertRates(rows: number, rounds: number, maxRows: number): Promise<ClickHouseInsertRates> {
  return runJsonChild('test/bench/chdb-insert-child.ts', [String(rows), String(rounds), String(maxRows)]);
}

async function httpInsertRates(url: string, rows: number, rounds: number, maxRows: number, cluster?: string) {
  const client = createClickHouseClient({
    mode: 'http',
    url,
    username: process.env.CLICKHOUSE_USER ?? 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    database: process.env.CLICKHOUSE_DATABASE ?? 'default',
    ...(cluster ? { cluster } : {}),
  });
  try {
    return await measureClickHouseInserts(client, rows, rounds, maxRows);
  } finally {
    await client.close();
  }
}

const n = (x: number) => x.toLocaleString('en-US');
const ratio = (a: number, b: number) => (a / b).toFixed(2);

export async function benchFeatureStore(options: FeatureStoreBenchOptions = {}): Promise<Section> {
  const endpoints = loadEndpoints();
  const redisRows = options.redisRows ?? 50_000;
  const pipeline = options.pipeline ?? 1000;
  const chRows = options.clickhouseRows ?? 50_000;
  const chMaxRows = options.clickhouseMaxRows ?? 5000;
  const iterations = options.readIterations ?? 2000;
  const prefix = uniqueName('sluice-bench-fs');

  const writes = await benchRedisWrites(endpoints.redisUrl, `${prefix}:w`, redisRows, pipeline, ROUNDS);
  const reads = await benchRedisReads(endpoints.redisUrl, `${prefix}:r`, 10_000, 100, iterations);
  const chdb = await chdbInsertRates(chRows, ROUNDS, chMaxRows);
  const http = await httpInsertRates(endpoints.clickhouseHttpUrl, chRows, ROUNDS, chMaxRows);
  // `npm run bench` starts the stack's local cluster: 4 more servers and ZooKeeper on the same 2 cores.
  const clusterUrl = clusterNodeUrl(LOCAL_CLUSTER_NODES[0]!);
  const cluster = await httpInsertRates(clusterUrl, chRows, ROUNDS, chMaxRows, LOCAL_CLUSTER_NAME);

  const figures: Figure[] = [
    {
      metric: 'Redis online writes, OnlineFeatureWriter.writeBatch (Lua CAS)',
      value: writes.casRowsPerSecond,
      unit: 'rows/s',
      baseline: {
        name: `redis-benchmark HSET of the same 12-field rows, -c 1 -P ${pipeline}`,
        value: writes.benchmarkSameRowsOneClient,
      },
    },
    {
      metric: 'Redis online writes, OnlineFeatureWriter.writeBatch (Lua CAS)',
      value: writes.casRowsPerSecond,
      unit: 'rows/s',
      baseline: {
        name: `redis-benchmark -t hset -P ${pipeline} (1 field, 50 connections: server ceiling)`,
        value: writes.benchmarkHsetDefault,
      },
    },
    {
      metric: 'Redis online writes, OnlineFeatureWriter.writeBatch (Lua CAS)',
      value: writes.casRowsPerSecond,
      unit: 'rows/s',
      baseline: {
        name: 'plain ioredis pipelined HSET + PEXPIRE of the same rows',
        value: writes.plainHsetRowsPerSecond,
      },
      note: 'the ratio is the cost of the version guard',
    },
    {
      metric: 'Redis online writes, plain ioredis pipelined HSET + PEXPIRE (client peer)',
      value: writes.plainHsetRowsPerSecond,
      unit: 'rows/s',
      baseline: {
        name: `redis-benchmark HSET of the same 12-field rows, -c 1 -P ${pipeline}`,
        value: writes.benchmarkSameRowsOneClient,
      },
      note: 'where the client (ioredis, Node) stands before any CAS',
    },
    {
      metric: `ClickHouse offline inserts, ClickHouseBatchWriter (${n(chMaxRows)}-row INSERTs), embedded chdb ${chdb.version}`,
      value: chdb.writerRowsPerSecond,
      unit: 'rows/s',
      baseline: { name: `one client.insert of all ${n(chRows)} rows`, value: chdb.bareRowsPerSecond },
    },
    {
      metric: `ClickHouse offline inserts, ClickHouseBatchWriter (${n(chMaxRows)}-row INSERTs), HTTP server ${http.version}`,
      value: http.writerRowsPerSecond,
      unit: 'rows/s',
      baseline: { name: `one client.insert of all ${n(chRows)} rows`, value: http.bareRowsPerSecond },
    },
    {
      metric: `ClickHouse offline inserts, ClickHouseBatchWriter (${n(chMaxRows)}-row INSERTs), cluster of 2 shards x 2 replicas (${cluster.version}), through its Distributed table`,
      value: cluster.writerRowsPerSecond,
      unit: 'rows/s',
      baseline: {
        name: `one client.insert of all ${n(chRows)} rows into the same Distributed table`,
        value: cluster.bareRowsPerSecond,
      },
    },
    {
      metric: `ClickHouse offline inserts, ClickHouseBatchWriter (${n(chMaxRows)}-row INSERTs), cluster of 2 shards x 2 replicas (${cluster.version}), through its Distributed table`,
      value: cluster.writerRowsPerSecond,
      unit: 'rows/s',
      baseline: {
        name: `the same writer into the single HTTP server ${http.version}`,
        value: http.writerRowsPerSecond,
      },
      note: 'the ratio is what the cluster layout costs a writer: synchronous inserts split per shard',
    },
    {
      metric: `online read p50, readMany of ${reads.entities} entities (one round trip)`,
      value: reads.readMany.p50,
      unit: 'ms',
      baseline: { name: `raw ioredis pipeline of ${reads.entities} HGETALLs`, value: reads.rawPipeline.p50 },
    },
    {
      metric: `online read p99, readMany of ${reads.entities} entities (one round trip)`,
      value: reads.readMany.p99,
      unit: 'ms',
      baseline: { name: `raw ioredis pipeline of ${reads.entities} HGETALLs`, value: reads.rawPipeline.p99 },
    },
  ];

  return {
    title: 'Feature store (issue 4)',
    setup:
      `Rows of a card view with 10 double features (counts, sums, means, distinct counts, a rate), seeded. ` +
      `Redis ${endpoints.redisUrl}: ${n(redisRows)} entities written once as warm-up, then ${ROUNDS} rounds ` +
      `that each replace every row with a newer version (every CAS applies), pipelines of ${n(pipeline)} rows ` +
      'on one connection, alternating with a plain pipelined HSET + PEXPIRE of the same rows; the median ' +
      `round is reported. redis-benchmark ran on the same server in the same run: a custom HSET of the same ` +
      `12 fields (${n(redisRows * ROUNDS)} requests over ${n(redisRows)} keys, 1 connection) and the stock ` +
      `\`-t hset\` (one field, 50 connections, in db 15). ClickHouse: ${n(chRows)} rows into the view's ` +
      `ReplacingMergeTree (16 columns, JSONEachRow), ${ROUNDS} rounds alternating the batch writer (add all, ` +
      'then flush) with one bare client.insert of all rows, median round; embedded chdb in a fresh temp ' +
      `folder (own process), the HTTP server at ${endpoints.clickhouseHttpUrl}, and the stack's cluster ` +
      `"${LOCAL_CLUSTER_NAME}" through ${clusterUrl} (Replicated tables under a Distributed table sharded by ` +
      'entity, insert_distributed_sync=1; four clickhouse-server processes and ZooKeeper on the same 2 cores). ' +
      `Reads: ${n(10_000)} ` +
      `stored entities, ${n(iterations)} iterations of 100 entities (after 50 warm-up), readMany and the raw ` +
      'pipeline alternating which goes first; latency is the wall time of the call in this process.',
    analysis:
      'The Lua CAS does a read, a delete, one HSET per field and a PEXPIRE inside Redis for each row, where ' +
      `the plain peer sends one HSET and one PEXPIRE: the CAS runs at ${ratio(writes.casRowsPerSecond, writes.plainHsetRowsPerSecond)} ` +
      'of the plain rate, which is what idempotent writes cost. Most of the gap to redis-benchmark is on the ' +
      `client: the plain ioredis pipeline of the same rows reaches ${ratio(writes.plainHsetRowsPerSecond, writes.benchmarkSameRowsOneClient)} ` +
      "of redis-benchmark's rate on one connection (Node builds and parses every command). The stock " +
      '`-t hset` is the server ceiling for its smallest write and no full-row writer can reach it. The batch ' +
      `writer splits ${n(chRows)} rows into INSERTs of ${n(chMaxRows)}, so its ratio to one big INSERT is the ` +
      'per-INSERT cost (one part per INSERT on the server), small at this size. Through the cluster, each ' +
      'INSERT is split by shard and waits for both shards to store their part (one replica each; the other ' +
      'replica then fetches it, on the same 2 cores). readMany adds key building, ' +
      'decoding to numbers and the freshness histogram to the raw round trip; p99 is dominated by the shared ' +
      'box (Kafka, ClickHouse and other engineers on 2 cores), for the baseline as much as for readMany.',
    figures,
  };
}
