/**
 * Schema migrations for the offline store: ordered, recorded in a `sluice_migrations` table, applied at
 * most once per version. The bookkeeping SQL is kept to what ClickHouse 18.16 understands (no query
 * params, no DEFAULTs filled in by JSON inserts). ClickHouse has no DDL transactions and no locks, so a
 * migration interrupted half way is applied again from its first statement: write each statement to be
 * idempotent (CREATE ... IF NOT EXISTS, ADD COLUMN IF NOT EXISTS).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { checkTableName, quoteString } from './sql-text.js';

export interface Migration {
  /** Positive integer; migrations apply in ascending order. Append-only: never renumber. */
  readonly version: number;
  readonly name: string;
  /** One SQL statement per entry (no trailing semicolons needed). */
  readonly up: readonly string[];
}

export interface MigrationOptions {
  readonly table?: string;
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
    if (!Array.isArray(m.up) || m.up.some((s) => typeof s !== 'string' || s.trim() === '')) {
      throw new MigrationError(
        `migration ${m.version} (${m.name}): up must be a list of non-empty SQL statements`,
      );
    }
    seen.set(m.version, m.name);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}

async function appliedVersions(client: ClickHouseClient, table: string): Promise<Map<number, string>> {
  await client.command({
    query:
      `CREATE TABLE IF NOT EXISTS ${table} (version UInt32, name String, applied_at DateTime) ` +
      'ENGINE = MergeTree ORDER BY version',
  });
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
  const ordered = checkMigrations(migrations);
  const done = await appliedVersions(client, table);
  const applied: number[] = [];
  const alreadyApplied: number[] = [];
  for (const m of ordered) {
    const recordedName = done.get(m.version);
    if (recordedName !== undefined) {
      if (recordedName !== m.name) {
        throw new MigrationError(
          `migration ${m.version} was applied as "${recordedName}" but the code now calls it "${m.name}"; ` +
            'migrations are append-only: restore the old one and add the change as a new version',
        );
      }
      alreadyApplied.push(m.version);
      continue;
    }
    for (const [i, statement] of m.up.entries()) {
      try {
        await client.command({ query: statement });
      } catch (err) {
        throw new MigrationError(
          `migration ${m.version} (${m.name}) failed at statement ${i + 1} of ${m.up.length}: ` +
            `${err instanceof Error ? err.message : String(err)}. Earlier statements may have applied; ` +
            'fix the statement (keep every statement idempotent) and run the migrations again',
          { cause: err },
        );
      }
    }
    await client.command({
      query: `INSERT INTO ${table} (version, name, applied_at) VALUES (${m.version}, ${quoteString(m.name)}, now())`,
    });
    applied.push(m.version);
  }
  return { applied, alreadyApplied };
}
