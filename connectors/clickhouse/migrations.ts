/**
 * Schema migrations for the offline store: ordered, recorded in a `sluice_migrations` table, applied at
 * most once per version. The bookkeeping SQL is kept to what ClickHouse 18.16 understands (no query
 * params, no DEFAULTs filled in by JSON inserts). ClickHouse has no DDL transactions and no locks, so a
 * migration interrupted half way is applied again from its first statement: write each statement to be
 * idempotent (CREATE ... IF NOT EXISTS, ADD COLUMN IF NOT EXISTS).
 *
 * On a cluster (CLICKHOUSE_CLUSTER) the same migrations create every table on every node (ON CLUSTER),
 * and the bookkeeping table is replicated across the whole cluster, so a migration applied through one
 * node counts as applied through any other.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { ConfigError } from '../config/config-error.js';
import { replacingTableStatements, type ReplacingTableSpec } from './replacing-merge-tree.js';
import { checkTableName, quoteString } from './sql-text.js';
import { onCluster, qualifiedName, tableLayoutOf, type TableLayout } from './table-layout.js';

/**
 * Raw SQL, or a table spec rendered for the layout at hand. Raw SQL is for one node only: it would
 * change a single node of a cluster.
 */
export type MigrationStatement = string | { readonly replacingTable: ReplacingTableSpec };

export interface Migration {
  /** Positive integer; migrations apply in ascending order. Append-only: never renumber. */
  readonly version: number;
  readonly name: string;
  /** One statement per entry (no trailing semicolons needed). */
  readonly up: readonly MigrationStatement[];
}

export interface MigrationOptions {
  readonly table?: string;
  /** Default: the layout the client was created with (single node for clients made elsewhere). */
  readonly layout?: TableLayout;
}

export interface MigrationReport {
  readonly applied: readonly number[];
  readonly alreadyApplied: readonly number[];
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export const MIGRATIONS_TABLE = 'sluice_migrations';

/** Throws on duplicate or invalid versions and empty names, before touching the database. */
export function checkMigrations(migrations: readonly Migration[]): Migration[] {
  const seen = new Map<number, string>();
  for (const m of migrations) {
    if (!Number.isSafeInteger(m.version) || m.version <= 0 || m.version > 0xffffffff) {
      throw new MigrationError(`migration "${m.name}" has version ${m.version}; use a positive integer`);
    }
    if (typeof m.name !== 'string' || m.name.trim() === '') {
      throw new MigrationError(`migration ${m.version} needs a non-empty name`);
    }
    if (seen.has(m.version)) {
      throw new MigrationError(
        `migrations "${seen.get(m.version)}" and "${m.name}" share version ${m.version}; versions must be unique`,
      );
    }
    const valid = (s: MigrationStatement) =>
      typeof s === 'string' ? s.trim() !== '' : typeof s?.replacingTable?.table === 'string';
    if (!Array.isArray(m.up) || !m.up.every(valid)) {
      throw new MigrationError(
        `migration ${m.version} (${m.name}): up must be a list of non-empty SQL statements or { replacingTable } specs`,
      );
    }
    seen.set(m.version, m.name);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}

/** The SQL of one migration in a layout; raw SQL on a cluster is refused before anything runs. */
function renderStatements(m: Migration, layout: TableLayout): string[] {
  return m.up.flatMap((statement, i) => {
    if (typeof statement !== 'string') return replacingTableStatements(statement.replacingTable, layout);
    if (layout.kind === 'cluster') {
      throw new MigrationError(
        `migration ${m.version} (${m.name}) statement ${i + 1} is raw SQL, which would change one node of ` +
          `cluster ${layout.cluster} only; write it as a { replacingTable } spec, or unset CLICKHOUSE_CLUSTER ` +
          'for a single-node store',
      );
    }
    return [statement];
  });
}

/** The databases named by qualified tables, created first so that a fresh server needs nothing by hand. */
function databasesOf(tables: readonly string[], layout: TableLayout): string[] {
  const names = tables.map((t) =>
    layout.kind === 'cluster' ? qualifiedName(t, layout)[0] : t.includes('.') ? t.split('.')[0]! : '',
  );
  return [...new Set(names.filter((n) => n !== '' && n !== 'default'))];
}

/** Per client, per cluster name (options.layout may name another than the client's own). */
const checkedClusters = new WeakMap<ClickHouseClient, Map<string, Promise<void>>>();

/**
 * A cluster the servers do not know, or a node without the {shard} and {replica} macros, would fail only
 * at the first DDL (or never, once the tables exist); checked at start instead. Once per client (every
 * sink of a worker applies its migrations), like the dialect probe; a failed check is not remembered.
 */
function checkClusterOnce(
  client: ClickHouseClient,
  layout: TableLayout & { kind: 'cluster' },
): Promise<void> {
  let checks = checkedClusters.get(client);
  if (!checks) checkedClusters.set(client, (checks = new Map()));
  let check = checks.get(layout.cluster);
  if (!check) {
    check = checkCluster(client, layout);
    check.catch(() => checks.delete(layout.cluster));
    checks.set(layout.cluster, check);
  }
  return check;
}

async function checkCluster(client: ClickHouseClient, layout: TableLayout & { kind: 'cluster' }) {
  const column = async <T extends string>(query: string, name: T) =>
    (await (await client.query({ query, format: 'JSONEachRow' })).json<Record<T, string>>()).map(
      (r) => r[name],
    );
  const clusters = await column('SELECT DISTINCT cluster FROM system.clusters', 'cluster');
  if (!clusters.includes(layout.cluster)) {
    throw new ConfigError(
      `CLICKHOUSE_CLUSTER=${layout.cluster} is not a cluster of the server at CLICKHOUSE_URL (its ` +
        `<remote_servers> has ${clusters.join(', ') || 'none'}); set CLICKHOUSE_CLUSTER to one of them`,
    );
  }
  const macros = await column('SELECT macro FROM system.macros', 'macro');
  const missing = ['shard', 'replica'].filter((m) => !macros.includes(m));
  if (missing.length > 0) {
    throw new ConfigError(
      `the server at CLICKHOUSE_URL defines no ${missing.map((m) => `{${m}}`).join(' or ')} macro; every node ` +
        `of cluster ${layout.cluster} needs <macros> with its shard and replica (README, "The offline store ` +
        'on a ClickHouse cluster")',
    );
  }
}

async function tableExists(client: ClickHouseClient, table: string): Promise<boolean> {
  const result = await client.query({ query: `EXISTS TABLE ${table}`, format: 'JSONEachRow' });
  const [row] = await result.json<{ result: number | string }>();
  return Number(row?.result) === 1;
}

async function createBookkeeping(
  client: ClickHouseClient,
  table: string,
  layout: TableLayout,
): Promise<void> {
  const columns = '(version UInt32, name String, applied_at DateTime)';
  if (layout.kind === 'single-node') {
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS ${table} ${columns} ENGINE = MergeTree ORDER BY version`,
    });
    return;
  }
  // One replica group across the whole cluster (no {shard} in the path): every node holds every record.
  const [database, name] = qualifiedName(table, layout);
  await client.command({
    query:
      `CREATE TABLE IF NOT EXISTS ${database}.${name}${onCluster(layout)} ${columns} ` +
      `ENGINE = ReplicatedMergeTree('/clickhouse/sluice_migrations/${database}.${name}', '{shard}-{replica}') ` +
      'ORDER BY version',
  });
}

async function appliedVersions(client: ClickHouseClient, table: string): Promise<Map<number, string>> {
  const result = await client.query({ query: `SELECT version, name FROM ${table}`, format: 'JSONEachRow' });
  const rows = await result.json<{ version: number | string; name: string }>();
  return new Map(rows.map((r) => [Number(r.version), r.name]));
}

export async function applyMigrations(
  client: ClickHouseClient,
  migrations: readonly Migration[],
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  const table = checkTableName(options.table ?? MIGRATIONS_TABLE);
  const layout = options.layout ?? tableLayoutOf(client);
  const bookkept = layout.kind === 'cluster' ? qualifiedName(table, layout).join('.') : table;
  const ordered = checkMigrations(migrations);
  if (layout.kind === 'cluster') await checkClusterOnce(client, layout);
  // Only reads when nothing is pending: on a cluster, DDL (ON CLUSTER) waits for every node.
  const exists = await tableExists(client, bookkept);
  if (exists && layout.kind === 'cluster') {
    // Replication is asynchronous: without this, a record written through another node a moment ago may
    // not be here yet, and its migration would run twice.
    await client.command({ query: `SYSTEM SYNC REPLICA ${bookkept}` });
  }
  const done = exists ? await appliedVersions(client, bookkept) : new Map<number, string>();
  const alreadyApplied: number[] = [];
  const pending: Migration[] = [];
  for (const m of ordered) {
    const recordedName = done.get(m.version);
    if (recordedName === undefined) {
      pending.push(m);
      continue;
    }
    if (recordedName !== m.name) {
      throw new MigrationError(
        `migration ${m.version} was applied as "${recordedName}" but the code now calls it "${m.name}"; ` +
          'migrations are append-only: restore the old one and add the change as a new version',
      );
    }
    alreadyApplied.push(m.version);
  }
  // Rendered before any runs, so a migration the layout cannot take refuses before changing anything.
  const rendered = pending.map((m) => [m, renderStatements(m, layout)] as const);
  if (pending.length > 0 || !exists) {
    const specTables = pending.flatMap((m) =>
      m.up.flatMap((s) => (typeof s === 'string' ? [] : [s.replacingTable.table])),
    );
    for (const database of databasesOf([table, ...specTables], layout)) {
      await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}${onCluster(layout)}` });
    }
    if (!exists) await createBookkeeping(client, table, layout);
  }
  const applied: number[] = [];
  for (const [m, statements] of rendered) {
    for (const [i, statement] of statements.entries()) {
      try {
        await client.command({ query: statement });
      } catch (err) {
        throw new MigrationError(
          `migration ${m.version} (${m.name}) failed at statement ${i + 1} of ${statements.length}: ` +
            `${err instanceof Error ? err.message : String(err)}. Earlier statements may have applied; ` +
            'fix the statement (keep every statement idempotent) and run the migrations again',
          { cause: err },
        );
      }
    }
    await client.command({
      query: `INSERT INTO ${bookkept} (version, name, applied_at) VALUES (${m.version}, ${quoteString(m.name)}, now())`,
    });
    applied.push(m.version);
  }
  return { applied, alreadyApplied };
}
