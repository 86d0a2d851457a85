/**
 * Builds a point-in-time training set: for each label (entity, time, label) the features of each view
 * as of that time — from the latest window that had ended by then, never a later one — written as CSV,
 * with the row count and the sha256 of the file for lineage. Labels are staged in a temporary table
 * so the join runs inside ClickHouse (ASOF JOIN where available, the argMax form on 18.16).
 */
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { detectDialect } from '../../connectors/clickhouse/dialect.js';
import { checkIdentifier, checkTableName } from '../../connectors/clickhouse/sql-text.js';
import {
  featureNames,
  featureTableName,
  type FeatureViewSpec,
} from '../../connectors/feature-sinks/index.js';
import { HashingCsvWriter } from './csv-writer.js';
import { DEFAULT_LABEL_COLUMNS, LabelInputError, type LabelColumns, type LabelEvent } from './labels.js';
import { pointInTimeSql, type FeatureTimeGuard } from './point-in-time-sql.js';

export type LabelSource =
  | { readonly kind: 'events'; readonly events: readonly LabelEvent[] }
  | { readonly kind: 'table'; readonly table: string; readonly columns?: LabelColumns };

export interface TrainingSetOptions {
  readonly client: ClickHouseClient;
  readonly labels: LabelSource;
  readonly views: readonly (FeatureViewSpec & { readonly name: string })[];
  readonly out: string;
  /** Adds a `<view>.window_end` column per view (when the used row's window ended), for audits. */
  readonly includeWindowEnd?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
  /** Tests only: a wrong time guard, to prove the leak test can fail. */
  readonly unsafeGuard?: FeatureTimeGuard;
}

export interface TrainingSetResult {
  readonly file: string;
  readonly rows: number;
  readonly sha256: string;
  readonly columns: readonly string[];
  readonly dialect: 'asof' | 'legacy';
}

const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

async function stageLabels(client: ClickHouseClient, table: string, source: LabelSource): Promise<number> {
  await client.command({
    query: `CREATE TABLE ${table} (row_id UInt64, entity String, ts UInt64, label String) ENGINE = Memory`,
  });
  if (source.kind === 'events') {
    const chunk = 10_000;
    for (let i = 0; i < source.events.length; i += chunk) {
      const values = source.events
        .slice(i, i + chunk)
        .map((e, j) => ({ row_id: i + j, entity: e.entity, ts: e.ts, label: e.label }));
      await client.insert({ table, values, format: 'JSONEachRow' });
    }
    return source.events.length;
  }
  const src = checkTableName(source.table);
  const cols = source.columns ?? DEFAULT_LABEL_COLUMNS;
  const described = await (
    await client.query({ query: `DESCRIBE TABLE ${src}`, format: 'JSONEachRow' })
  ).json<{ name: string; type: string }>();
  const typeOf = (name: string) => {
    const col = described.find((d) => d.name === checkIdentifier(name));
    if (!col) {
      throw new LabelInputError(
        `labels table ${src} has no column "${name}" (columns: ${described.map((d) => d.name).join(', ')}); ` +
          'name the columns with --entity-col, --time-col and --label-col',
      );
    }
    return col.type;
  };
  typeOf(cols.entity);
  typeOf(cols.label);
  const timeType = typeOf(cols.time);
  const time = /DateTime/.test(timeType)
    ? `toUInt64(toUInt32(${cols.time})) * 1000`
    : /Int/.test(timeType)
      ? `toUInt64(${cols.time})`
      : undefined;
  if (!time) {
    throw new LabelInputError(
      `labels column ${cols.time} of ${src} is ${timeType}; it must be epoch ms (an integer) or DateTime`,
    );
  }
  await client.command({
    query:
      `INSERT INTO ${table} (row_id, entity, ts, label) SELECT rowNumberInAllBlocks(), toString(${cols.entity}), ${time}, ` +
      `toString(${cols.label}) FROM ${src}`,
  });
  const rows = await (
    await client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })
  ).json<{ n: number | string }>();
  return Number(rows[0]?.n ?? 0);
}

export async function buildTrainingSet(options: TrainingSetOptions): Promise<TrainingSetResult> {
  const { client } = options;
  const views = options.views.map((v) => ({
    spec: v,
    table: featureTableName(v),
    features: featureNames(v),
  }));
  const dialect = (await detectDialect(client)).features.asofJoin ? 'asof' : 'legacy';
  const staging = `sluice_tmp_labels_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const columns = ['entity', 'ts', 'label'];
  for (const v of views) {
    if (options.includeWindowEnd) columns.push(`${v.spec.name}.window_end`);
    for (const f of v.features) columns.push(`${v.spec.name}.${f}`);
  }
  const writer = new HashingCsvWriter(options.out);
  try {
    const total = await stageLabels(client, staging, options.labels);
    const sql = pointInTimeSql({
      labelsTable: staging,
      views: views.map((v) => ({ table: v.table, features: v.features })),
      dialect,
      guard: options.unsafeGuard,
    });
    await writer.writeRow(columns);
    let done = 0;
    options.onProgress?.(0, total);
    const result = await client.query({ query: sql, format: 'JSONEachRow' });
    for await (const batch of result.stream<Record<string, unknown>>()) {
      for (const item of batch) {
        const row = item.json();
        const ts = Number(row.ts);
        const cells: (string | number | null)[] = [String(row.entity), ts, String(row.label)];
        views.forEach((v, i) => {
          const windowEnd = num(row[`v${i}_we`]) ?? 0;
          // No row yet, or a row older than the view's ttl: online serving would have had nothing either.
          const usable = windowEnd > 0 && ts - windowEnd < v.spec.ttlMs;
          if (options.includeWindowEnd) cells.push(usable ? windowEnd : null);
          v.features.forEach((_, j) => {
            const value = num(row[`v${i}_f${j}`]);
            cells.push(usable && value !== null && Number.isFinite(value) ? value : null);
          });
        });
        await writer.writeRow(cells);
        done += 1;
        if (done % 500 === 0) options.onProgress?.(done, total);
      }
    }
    options.onProgress?.(done, total);
    const sha256 = await writer.finish();
    return { file: options.out, rows: done, sha256, columns, dialect };
  } catch (err) {
    writer.abort();
    throw err;
  } finally {
    await client.command({ query: `DROP TABLE IF EXISTS ${staging}` }).catch(() => undefined);
  }
}
