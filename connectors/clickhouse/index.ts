/** The ClickHouse offline store: one client for chdb or HTTP, dialect, migrations, batch writer. */
export {
  createClickHouseClient,
  type ClickHouseClient,
  type ClickHouseClientOptions,
} from './clickhouse-client.js';
export {
  detectDialect,
  dialectFromVersion,
  type ClickHouseDialect,
  type ClickHouseFeatures,
} from './dialect.js';
export {
  applyMigrations,
  checkMigrations,
  MigrationError,
  MIGRATIONS_TABLE,
  type Migration,
  type MigrationOptions,
  type MigrationReport,
  type MigrationStatement,
} from './migrations.js';
export {
  ClickHouseBatchWriter,
  ClickHouseWriteError,
  DEFAULT_CLICKHOUSE_RETRY,
  type BatchWriterOptions,
  type RetryPolicy,
} from './batch-writer.js';
export {
  countFinal,
  countRaw,
  dropReplacingTableStatements,
  replacingMergeTreeDDL,
  replacingTableStatements,
  type ReplacingTableSpec,
} from './replacing-merge-tree.js';
export { layoutOfEndpoint, onCluster, SINGLE_NODE, tableLayoutOf, type TableLayout } from './table-layout.js';
export { checkIdentifier, checkTableName, quoteString, SqlTextError } from './sql-text.js';
export { clickHouseErrorCode, isTransientClickHouseError } from './transient-errors.js';
