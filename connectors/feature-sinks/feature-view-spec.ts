/**
 * What the feature sinks need to know about a feature view: its name, schema version, typed features and
 * time to live. Feature views themselves are defined in topology code (topologies/features); this is the
 * plain-data contract the connectors accept, so connectors never import from the topology layer.
 */
import { checkIdentifier } from '../clickhouse/sql-text.js';

/** Value types a feature may have. Everything is stored as a number online (booleans as 0/1). */
export type FeatureType = 'double' | 'long' | 'int' | 'boolean';
export const FEATURE_TYPES: readonly FeatureType[] = ['double', 'long', 'int', 'boolean'];

export interface FeatureViewSpec {
  readonly name: string;
  /** 8 hex digits of a hash of the typed schema; a schema change is a new version. */
  readonly version: string;
  /** The same hash as a non-negative 31-bit integer (FeatureRow.viewVersion is an Avro int). */
  readonly versionNumber: number;
  readonly features: Readonly<Record<string, FeatureType>>;
  /** How long an online value lives after its last write; also the staleness limit of training sets. */
  readonly ttlMs: number;
}

export class FeatureViewError extends Error {
  override readonly name = 'FeatureViewError';
}

/** View names become Redis key parts and ClickHouse table names: keep them to one safe alphabet. */
export const VIEW_NAME = /^[a-z][a-z0-9_]{1,50}$/;

export function checkViewName(name: string): string {
  if (typeof name !== 'string' || !VIEW_NAME.test(name)) {
    throw new FeatureViewError(
      `feature view name ${JSON.stringify(name)} must be lowercase letters, digits and underscores, ` +
        'starting with a letter, 2-51 characters (it names a ClickHouse table), e.g. card_txn_1m',
    );
  }
  return name;
}

export function checkFeatureName(view: string, name: string): string {
  try {
    checkIdentifier(name, 'feature');
  } catch {
    throw new FeatureViewError(
      `feature view ${view}: feature name ${JSON.stringify(name)} must be letters, digits and underscores, ` +
        'starting with a letter or underscore (it names a ClickHouse column), e.g. txnCount1m',
    );
  }
  if (name.startsWith('__') || RESERVED_COLUMNS.has(name)) {
    throw new FeatureViewError(
      `feature view ${view}: feature name "${name}" is reserved (${[...RESERVED_COLUMNS].join(', ')} and names starting with __); rename it`,
    );
  }
  return name;
}

/** Columns every offline feature table has besides the features. */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set([
  'entity',
  'window_start',
  'window_end',
  'event_time',
  'version',
  'view_version',
]);

/** One ClickHouse table per view version: a schema change writes a new table and leaves the old intact. */
export function featureTableName(spec: Pick<FeatureViewSpec, 'name' | 'version'>): string {
  return `fv_${checkViewName(spec.name)}_v${spec.version}`;
}

/** Sorted feature names: the column order of the table and of training-set CSVs. */
export function featureNames(spec: Pick<FeatureViewSpec, 'features'>): string[] {
  return Object.keys(spec.features).sort();
}

/** ClickHouse column type of a feature; Nullable because a missing value (e.g. a mean of nothing) is not 0. */
export function clickHouseType(type: FeatureType): string {
  switch (type) {
    case 'double':
      return 'Nullable(Float64)';
    case 'long':
      return 'Nullable(Int64)';
    case 'int':
      return 'Nullable(Int32)';
    case 'boolean':
      return 'Nullable(UInt8)';
  }
}
