/**
 * Idempotent offline tables: a ReplacingMergeTree keyed on the sort key with a version column keeps, per
 * key, the row with the highest version once parts merge. Merges happen whenever ClickHouse likes, so
 * replays show up as duplicates until then; exact answers read with FINAL, which merges at query time.
 * The DDL uses only syntax ClickHouse 18.16 already had.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { checkIdentifier, checkTableName } from './sql-text.js';

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
}

export function replacingMergeTreeDDL(spec: ReplacingTableSpec): string {
  const table = checkTableName(spec.table);
  const names = new Set(spec.columns.map(([name]) => checkIdentifier(name)));
  for (const key of [...spec.orderBy, spec.versionColumn]) {
    if (!names.has(checkIdentifier(key))) {
      throw new Error(`${table}: "${key}" is used as a key or version but is not one of the columns`);
    }
  }
  if (spec.orderBy.length === 0) throw new Error(`${table}: orderBy needs at least one column`);
  const columns = spec.columns.map(([name, type]) => `${name} ${type}`).join(', ');
  const partition = spec.partitionBy ? ` PARTITION BY ${spec.partitionBy}` : '';
  return (
    `CREATE TABLE IF NOT EXISTS ${table} (${columns}) ` +
    `ENGINE = ReplacingMergeTree(${spec.versionColumn})${partition} ORDER BY (${spec.orderBy.join(', ')})`
  );
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
