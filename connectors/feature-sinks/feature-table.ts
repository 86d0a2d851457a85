/**
 * The offline table of a feature view version: a ReplacingMergeTree ORDER BY (entity, window_start) whose
 * version column is the row's event time (the window end), so a replayed window replaces itself instead
 * of adding a row. Only 2018-era SQL (UInt64 ms instead of DateTime64, one column per feature instead of
 * a Map), so the same table works on embedded chdb and on a ClickHouse 18.16 server.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { applyMigrations, type Migration, type MigrationReport } from '../clickhouse/migrations.js';
import type { ReplacingTableSpec } from '../clickhouse/replacing-merge-tree.js';
import type { FeatureRowRecord } from '../../schemas/index.js';
import {
  checkFeatureName,
  clickHouseType,
  featureNames,
  featureTableName,
  FeatureViewError,
  type FeatureViewSpec,
} from './feature-view-spec.js';

/** Bookkeeping table of the feature-table migrations (kept apart from the platform's own migrations). */
export const FEATURE_MIGRATIONS_TABLE = 'sluice_feature_migrations';

export function featureTableSpec(spec: FeatureViewSpec): ReplacingTableSpec {
  const names = featureNames(spec).map((n) => checkFeatureName(spec.name, n));
  return {
    table: featureTableName(spec),
    columns: [
      ['entity', 'String'],
      ['window_start', 'UInt64'],
      ['window_end', 'UInt64'],
      ['event_time', 'UInt64'],
      ['version', 'UInt64'],
      ['view_version', 'UInt32'],
      ...names.map((n) => [n, clickHouseType(spec.features[n]!)] as const),
    ],
    orderBy: ['entity', 'window_start'],
    versionColumn: 'version',
    // Every window of an entity on one shard: point-in-time joins per entity stay shard-local.
    shardBy: ['entity'],
  };
}

/**
 * One migration per view version. Its number is derived from the schema hash, so migrations generated
 * from code on different machines agree without a hand-kept counter; the name carries the table, so a
 * (very unlikely) hash collision between two views fails loudly in applyMigrations instead of skipping.
 */
export function featureTableMigration(spec: FeatureViewSpec): Migration {
  return {
    version: spec.versionNumber + 1,
    name: `create ${featureTableName(spec)}`,
    up: [{ replacingTable: featureTableSpec(spec) }],
  };
}

/** Creates the tables of every given view version that does not exist yet (idempotent). */
export function applyFeatureMigrations(
  client: ClickHouseClient,
  specs: readonly FeatureViewSpec[],
): Promise<MigrationReport> {
  return applyMigrations(client, specs.map(featureTableMigration), { table: FEATURE_MIGRATIONS_TABLE });
}

export type FeatureTableRow = Record<string, string | number | null>;

/** A feature row as a table row; features the view does not declare are refused, missing ones are null. */
export function toTableRow(spec: FeatureViewSpec, row: FeatureRowRecord): FeatureTableRow {
  const out: FeatureTableRow = {
    entity: row.entity,
    window_start: row.windowStart,
    window_end: row.windowEnd,
    event_time: row.eventTime,
    version: row.windowEnd,
    view_version: row.viewVersion,
  };
  for (const name of Object.keys(row.features)) {
    if (!(name in spec.features)) {
      throw new FeatureViewError(
        `feature row of view ${spec.name} has feature "${name}", which the view (version ${spec.version}) does not declare`,
      );
    }
  }
  for (const name of featureNames(spec)) {
    const value = row.features[name];
    out[name] = value === undefined || !Number.isFinite(value) ? null : value;
  }
  return out;
}
