/** Feature-store sinks: onlineStore(view) -> Redis, offlineStore(view) -> ClickHouse, and their tables. */
export {
  checkFeatureName,
  checkViewName,
  clickHouseType,
  FEATURE_TYPES,
  featureNames,
  featureTableName,
  FeatureViewError,
  RESERVED_COLUMNS,
  VIEW_NAME,
  type FeatureType,
  type FeatureViewSpec,
} from './feature-view-spec.js';
export {
  applyFeatureMigrations,
  FEATURE_MIGRATIONS_TABLE,
  featureTableSpec,
  featureTableMigration,
  toTableRow,
  type FeatureTableRow,
} from './feature-table.js';
export { acquireClickHouse, type SharedClickHouse } from './clickhouse-pool.js';
export { onlineStore, rowsOfView, type OnlineStoreOptions } from './online-store.js';
export { offlineStore, type OfflineStoreOptions } from './offline-store.js';
