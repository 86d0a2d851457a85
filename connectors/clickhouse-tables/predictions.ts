/**
 * The offline log of predictions (`sluice.predictions`) and the labels they are evaluated against
 * (`sluice.labels`): DDL as migrations, plus a runtime sink. Everything here is SQL ClickHouse 18.16
 * understands, so the HTTP path to an old server works too: no Map (features are parallel arrays), no
 * DateTime64 (times are epoch-ms UInt64 plus a Date for partitioning), no query parameters.
 *
 * Idempotency: ReplacingMergeTree ordered by predictionId. predictionId is derived from the source
 * position and the variant, so a replayed event rewrites the same key, and reads with FINAL see it once.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import {
  applyMigrations,
  checkIdentifier,
  quoteString,
  type Migration,
  type MigrationReport,
} from '../clickhouse/index.js';
import type { Prediction } from '../experiments/prediction.js';
import type { Sink } from '../sink.js';

export const PREDICTIONS_DATABASE = 'sluice';
export const PREDICTIONS_TABLE = 'sluice.predictions';
export const LABELS_TABLE = 'sluice.labels';

/** The migrations of the predictions and labels tables in `database` (another than `sluice` is for tests). */
export const predictionMigrations = (database: string = PREDICTIONS_DATABASE): readonly Migration[] => [
  {
    version: 1,
    name: 'predictions and labels',
    up: [
      {
        replacingTable: {
          table: `${database}.predictions`,
          columns: [
            ['predictionId', 'String'],
            ['eventId', 'String'],
            ['entity', 'String'],
            ['eventTime', 'UInt64'],
            ['eventDate', 'Date'],
            ['model', 'String'],
            ['modelVersion', 'String'],
            ['variant', 'String'],
            ['experiment', 'String'],
            ['experimentVersion', 'UInt32'],
            ['shadow', 'UInt8'],
            ['score', 'Float64'],
            ['latencyMs', 'Float64'],
            ['featureNames', 'Array(String)'],
            ['featureValues', 'Array(Float64)'],
            ['sourceTopic', 'String'],
            ['sourcePartition', 'UInt32'],
            ['sourceOffset', 'UInt64'],
            ['loggedAt', 'UInt64'],
          ],
          orderBy: ['predictionId'],
          versionColumn: 'loggedAt',
          partitionBy: 'toYYYYMM(eventDate)',
        },
      },
      {
        replacingTable: {
          table: `${database}.labels`,
          columns: [
            ['txnId', 'String'],
            ['entity', 'String'],
            ['ts', 'UInt64'],
            ['isFraud', 'UInt8'],
          ],
          orderBy: ['txnId'],
          versionColumn: 'ts',
        },
      },
    ],
  },
];

export const PREDICTION_MIGRATIONS = predictionMigrations();

/** Creates the database and the tables (idempotent; safe on every start). */
export function migratePredictionTables(
  client: ClickHouseClient,
  database: string = PREDICTIONS_DATABASE,
): Promise<MigrationReport> {
  return applyMigrations(client, predictionMigrations(checkIdentifier(database, 'database')), {
    table: `${database}.predictions_migrations`,
  });
}

export interface PredictionRow {
  predictionId: string;
  eventId: string;
  entity: string;
  eventTime: number;
  eventDate: string;
  model: string;
  modelVersion: string;
  variant: string;
  experiment: string;
  experimentVersion: number;
  shadow: 0 | 1;
  score: number;
  latencyMs: number;
  featureNames: string[];
  featureValues: number[];
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
  loggedAt: number;
}

export function toPredictionRow(p: Prediction, loggedAt: number): PredictionRow {
  const names = Object.keys(p.features);
  return {
    predictionId: p.predictionId,
    eventId: p.eventId,
    entity: p.entity,
    eventTime: p.eventTime,
    eventDate: new Date(p.eventTime).toISOString().slice(0, 10),
    model: p.model,
    modelVersion: p.modelVersion,
    variant: p.variant,
    experiment: p.experiment ?? '',
    experimentVersion: p.experimentVersion ?? 0,
    shadow: p.shadow ? 1 : 0,
    score: p.score,
    latencyMs: p.latencyMs,
    featureNames: names,
    featureValues: names.map((n) => p.features[n]!),
    sourceTopic: p.sourceTopic,
    sourcePartition: p.sourcePartition,
    sourceOffset: p.sourceOffset,
    loggedAt,
  };
}

/**
 * Sink for the scoring topology: one INSERT per batch the runtime hands over; a resolved write means
 * ClickHouse stored the rows (the runtime retries failures with backoff and keeps the partition paused).
 */
export function predictionsClickHouseSink(
  client: Pick<ClickHouseClient, 'insert' | 'command' | 'query'>,
  options: { table?: string; migrate?: boolean; now?: () => number } = {},
): Sink<Prediction> {
  const table = options.table ?? PREDICTIONS_TABLE;
  const now = options.now ?? Date.now;
  return {
    name: `clickhouse:${table}`,
    async open() {
      if (options.migrate ?? true) await migratePredictionTables(client as ClickHouseClient);
      return {
        async write(records) {
          const loggedAt = now();
          const values = records.map((r) => toPredictionRow(r.value, loggedAt));
          await client.insert({ table, values, format: 'JSONEachRow' });
        },
        async close() {},
      };
    },
  };
}

export interface LabelRow {
  readonly txnId: string;
  readonly entity: string;
  readonly ts: number;
  readonly isFraud: boolean;
}

export async function insertLabels(
  client: Pick<ClickHouseClient, 'insert'>,
  labels: readonly LabelRow[],
  table = LABELS_TABLE,
): Promise<void> {
  if (labels.length === 0) return;
  await client.insert({
    table,
    values: labels.map((l) => ({ txnId: l.txnId, entity: l.entity, ts: l.ts, isFraud: l.isFraud ? 1 : 0 })),
    format: 'JSONEachRow',
  });
}

/** A string literal for experiment names etc. in report SQL (no query params on 18.16). */
export const sqlString = quoteString;
