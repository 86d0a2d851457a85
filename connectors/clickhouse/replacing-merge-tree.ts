/**
 * Idempotent offline tables: a ReplacingMergeTree keyed on the sort key with a version column keeps, per
 * key, the row with the highest version once parts merge. Merges happen whenever ClickHouse likes, so
 * replays show up as duplicates until then; exact answers read with FINAL, which merges at query time.
 * On a cluster FINAL merges per shard only, so rows are sharded by (part of) the sort key: every copy of a
 * key lands on the same shard and FINAL stays exact. The DDL uses only syntax ClickHouse 18.16 already had.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { checkIdentifier, checkTableName } from './sql-text.js';
import { onCluster, qualifiedName, type TableLayout } from './table-layout.js';

export interface ReplacingTableSpec {
  readonly table: string;
  /** Column name -> ClickHouse type, in order. */
  readonly columns: readonly (readonly [name: string, type: string])[];
  /** The identity of a row, e.g. ['entity', 'window_start']. */
  readonly orderBy: readonly string[];
  /** An unsigned integer, Date or DateTime column; the highest wins. */
  readonly versionColumn: string;
  /** Optional partition expression, e.g. 'toYYYYMM(window_start)'. */
  readonly partitionBy?: string;
  /**
   * On a cluster, the sort-key columns whose hash picks the shard (default: all of orderBy). Fewer columns
   * keep more rows together, e.g. every window of an entity on one shard.
   */
  readonly shardBy?: readonly string[];
}

interface CheckedSpec {
  readonly table: string;
  readonly columns: string;
  readonly tail: string;
  readonly shardBy: readonly string[];
}

function checkSpec(spec: ReplacingTableSpec): CheckedSpec {
  const table = checkTableName(spec.table);
  const names = new Set(spec.columns.map(([name]) => checkIdentifier(name)));
  for (const key of [...spec.orderBy, spec.versionColumn]) {
    if (!names.has(checkIdentifier(key))) {
      throw new Error(`${table}: "${key}" is used as a key or version but is not one of the columns`);
    }
  }
  if (spec.orderBy.length === 0) throw new Error(`${table}: orderBy needs at least one column`);
  const shardBy = spec.shardBy ?? spec.orderBy;
  if (shardBy.length === 0 || shardBy.some((c) => !spec.orderBy.includes(c))) {
    // A shard key outside the sort key could send two versions of one row to two shards, where FINAL
    // (per shard) would keep both.
    throw new Error(`${table}: shardBy must be a non-empty subset of orderBy (${spec.orderBy.join(', ')})`);
  }
  const partition = spec.partitionBy ? ` PARTITION BY ${spec.partitionBy}` : '';
  return {
    table,
    columns: spec.columns.map(([name, type]) => `${name} ${type}`).join(', '),
    tail: `${partition} ORDER BY (${spec.orderBy.join(', ')})`,
    shardBy,
  };
}

/** The single-node DDL. */
export function replacingMergeTreeDDL(spec: ReplacingTableSpec): string {
  const t = checkSpec(spec);
  return (
    `CREATE TABLE IF NOT EXISTS ${t.table} (${t.columns}) ` +
    `ENGINE = ReplacingMergeTree(${spec.versionColumn})${t.tail}`
  );
}

/**
 * The statements that create the table in a layout. On a cluster: `<table>_local`, replicated within its
 * shard through ZooKeeper (the servers' {shard} and {replica} macros name its path and replica), then
 * `<table>` over it, a Distributed table sharded by sipHash64 of shardBy. Both ON CLUSTER.
 */
export function replacingTableStatements(spec: ReplacingTableSpec, layout: TableLayout): string[] {
  if (layout.kind === 'single-node') return [replacingMergeTreeDDL(spec)];
  const t = checkSpec(spec);
  const [database, name] = qualifiedName(t.table, layout);
  const local = `${name}_local`;
  const zooKeeperPath = `/clickhouse/tables/{shard}/${database}/${name}`;
  return [
    `CREATE TABLE IF NOT EXISTS ${database}.${local}${onCluster(layout)} (${t.columns}) ` +
      `ENGINE = ReplicatedReplacingMergeTree('${zooKeeperPath}', '{replica}', ${spec.versionColumn})${t.tail}`,
    `CREATE TABLE IF NOT EXISTS ${database}.${name}${onCluster(layout)} AS ${database}.${local} ` +
      `ENGINE = Distributed(${layout.cluster}, ${database}, ${local}, sipHash64(${t.shardBy.join(', ')}))`,
  ];
}

/**
 * The statements that drop a table replacingTableStatements created. On a cluster: the Distributed table
 * first (nothing reads the local ones through it any more), then `<table>_local` on every node, which also
 * removes its replicas from ZooKeeper.
 */
export function dropReplacingTableStatements(table: string, layout: TableLayout): string[] {
  const checked = checkTableName(table);
  if (layout.kind === 'single-node') return [`DROP TABLE IF EXISTS ${checked}`];
  const [database, name] = qualifiedName(checked, layout);
  return [name, `${name}_local`].map((t) => `DROP TABLE IF EXISTS ${database}.${t}${onCluster(layout)}`);
}

/** Rows of the table as they will be after every merge: one per sort key (FINAL). */
export async function countFinal(client: ClickHouseClient, table: string): Promise<number> {
  const result = await client.query({
    query: `SELECT count() AS rows FROM ${checkTableName(table)} FINAL`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ rows: number | string }>();
  // UInt64 comes back as a string from 18.16 and as a number from chdb.
  return Number(rows[0]?.rows ?? 0);
}

/** Rows as stored right now, duplicates of not-yet-merged parts included. */
export async function countRaw(client: ClickHouseClient, table: string): Promise<number> {
  const result = await client.query({
    query: `SELECT count() AS rows FROM ${checkTableName(table)}`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ rows: number | string }>();
  return Number(rows[0]?.rows ?? 0);
}
