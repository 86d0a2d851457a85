/**
 * The offline history of drift metrics (`sluice.drift_metrics`): DDL as migrations, the row mapping and the
 * runtime sink. SQL is kept to what ClickHouse 18.16 understands, so the HTTP path to an old server works
 * as well as embedded chdb: epoch-ms UInt64 plus a Date for partitioning, no DateTime64, no query params.
 *
 * Idempotency: ReplacingMergeTree ordered by (model, version, target, feature, metric, window start); a
 * replayed window rewrites the same key and reads with FINAL see it once (the last write wins).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import {
  applyMigrations,
  checkTableName,
  type Migration,
  type MigrationReport,
} from '../../connectors/clickhouse/index.js';
import { acquireClickHouse } from '../../connectors/feature-sinks/clickhouse-pool.js';
import type { Sink } from '../../connectors/sink.js';
import type { DriftMetricRecord } from '../../schemas/index.js';

export const DRIFT_METRICS_TABLE = 'sluice.drift_metrics';
/** Its own bookkeeping table, so these versions never collide with other modules' migrations. */
export const DRIFT_MIGRATIONS_TABLE = 'sluice.drift_migrations';

/** The migrations of a drift metrics table (another name than the default is for tests and staging). */
export const driftMigrations = (table: string = DRIFT_METRICS_TABLE): readonly Migration[] => [
  {
    version: 1,
    name: 'drift metrics',
    up: [
      {
        replacingTable: {
          table: checkTableName(table),
          columns: [
            ['model', 'String'],
            ['modelVersion', 'String'],
            ['target', 'String'],
            ['feature', 'String'],
            ['metric', 'String'],
            ['value', 'Float64'],
            ['threshold', 'Nullable(Float64)'],
            ['sampleSize', 'UInt64'],
            ['breached', 'UInt8'],
            ['consecutiveBreaches', 'UInt32'],
            ['windowStart', 'UInt64'],
            ['windowEnd', 'UInt64'],
            ['windowDate', 'Date'],
            ['writtenAt', 'UInt64'],
          ],
          orderBy: ['model', 'modelVersion', 'target', 'feature', 'metric', 'windowStart'],
          versionColumn: 'writtenAt',
          partitionBy: 'toYYYYMM(windowDate)',
          // A model version's history of one feature stays on one shard.
          shardBy: ['model', 'modelVersion', 'feature'],
        },
      },
    ],
  },
];

/** Creates the database and applies the migrations (idempotent; safe on every start). */
export async function migrateDriftTables(
  client: Pick<ClickHouseClient, 'command' | 'query' | 'insert'>,
  table: string = DRIFT_METRICS_TABLE,
): Promise<MigrationReport> {
  const bookkeeping = table === DRIFT_METRICS_TABLE ? DRIFT_MIGRATIONS_TABLE : `${table}_migrations`;
  return applyMigrations(client as ClickHouseClient, driftMigrations(table), { table: bookkeeping });
}

export interface DriftMetricRow {
  model: string;
  modelVersion: string;
  target: string;
  feature: string;
  metric: string;
  value: number;
  threshold: number | null;
  sampleSize: number;
  breached: 0 | 1;
  consecutiveBreaches: number;
  windowStart: number;
  windowEnd: number;
  windowDate: string;
  writtenAt: number;
}

export function toDriftMetricRow(m: DriftMetricRecord, writtenAt: number): DriftMetricRow {
  return {
    model: m.model,
    modelVersion: m.modelVersion,
    target: m.target,
    feature: m.feature,
    metric: m.metric,
    value: m.value,
    threshold: m.threshold,
    sampleSize: m.sampleSize,
    breached: m.breached ? 1 : 0,
    consecutiveBreaches: m.consecutiveBreaches,
    windowStart: m.windowStart,
    windowEnd: m.windowEnd,
    windowDate: new Date(m.windowStart).toISOString().slice(0, 10),
    writtenAt,
  };
}

export interface DriftTableSinkOptions {
  /** A client to use (tests, a shared embedded store); default: the worker's endpoint via the shared pool. */
  readonly client?: Pick<ClickHouseClient, 'insert' | 'command' | 'query'>;
  readonly table?: string;
  readonly migrate?: boolean;
  readonly now?: () => number;
}

/**
 * One INSERT per batch the runtime hands over; a resolved write means ClickHouse stored the rows (the
 * runtime retries failures with backoff and keeps the partition paused meanwhile).
 */
export function driftMetricsClickHouseSink(options: DriftTableSinkOptions = {}): Sink<DriftMetricRecord> {
  const table = options.table ?? DRIFT_METRICS_TABLE;
  const now = options.now ?? Date.now;
  return {
    name: `clickhouse:${table}`,
    async open(env) {
      const shared = options.client ? undefined : acquireClickHouse(env.endpoints.clickhouse);
      const client = options.client ?? shared!.client;
      try {
        if (options.migrate ?? true) await migrateDriftTables(client, table);
      } catch (err) {
        await shared?.release();
        throw err;
      }
      return {
        async write(records) {
          if (records.length === 0) return;
          const writtenAt = now();
          const values = records.map((r) => toDriftMetricRow(r.value, writtenAt));
          await client.insert({ table, values, format: 'JSONEachRow' });
        },
        async close() {
          await shared?.release();
        },
      };
    },
  };
}
