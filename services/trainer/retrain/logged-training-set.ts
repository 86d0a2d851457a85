/**
 * The training set of a retrain: what the model actually served, as logged in ClickHouse
 * (sluice.predictions, served rows only), joined to the labels that arrived for those events.
 *
 * Why logged serving-time features rather than recomputing them from the offline store: the logged values
 * are exactly what the model was fed in production (same windows, same defaults for missing online
 * features, same event-derived features), so a model trained on them has no training/serving skew.
 *
 * SQL constraints: it must run on embedded chdb and on ClickHouse 18.16 over HTTP alike, so no query
 * parameters (strings are quoted with quoteString), FINAL for ReplacingMergeTree dedup, and an ALL INNER
 * JOIN ... USING (see services/experiments-report/experiment-report.ts for the same shape).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { quoteString } from '../../../connectors/clickhouse/index.js';
import { LABELS_TABLE, PREDICTIONS_TABLE } from '../../../connectors/clickhouse-tables/predictions.js';
import type { Dataset } from '../synthetic-data.js';

export const DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_MAX_ROWS = 200_000;

export interface TrainingWindow {
  /** Inclusive, epoch ms. */
  readonly from: number;
  /** Exclusive, epoch ms. */
  readonly to: number;
}

/** The request's window; a missing end is requestedAt, a missing start is 7 days (windowMs) before the end. */
export function resolveTrainingWindow(
  request: {
    readonly trainFrom: number | null;
    readonly trainTo: number | null;
    readonly requestedAt: number;
  },
  windowMs = DEFAULT_WINDOW_MS,
): TrainingWindow {
  const to = request.trainTo ?? request.requestedAt;
  // Clamped at the epoch: a request stamped early in 1970 (tests, replays) still gets a valid window.
  const from = request.trainFrom ?? Math.max(0, to - windowMs);
  if (!(from < to)) throw new RangeError(`training window is empty: from ${from} is not before to ${to}`);
  return { from, to };
}

export interface LoggedTrainingSetQuery {
  readonly model: string;
  readonly window: TrainingWindow;
  /** Bounds the rows read from ClickHouse (default 200k). */
  readonly maxRows?: number;
  readonly predictionsTable?: string;
  readonly labelsTable?: string;
}

const epochMs = (name: string, v: number) => {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be epoch milliseconds, got ${v}`);
  return v;
};

export function loggedTrainingSetSql(q: LoggedTrainingSetQuery): string {
  const limit = q.maxRows ?? DEFAULT_MAX_ROWS;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`maxRows must be a positive integer, got ${limit}`);
  const from = epochMs('window.from', q.window.from);
  const to = epochMs('window.to', q.window.to);
  // predictionId breaks ties so an event logged twice (e.g. under two experiment versions) is read in the
  // same order every time; the first row per event is kept in TypeScript.
  return `SELECT eventId, predictionId, score, featureNames, featureValues, isFraud
FROM (SELECT eventId, predictionId, score, featureNames, featureValues
      FROM ${q.predictionsTable ?? PREDICTIONS_TABLE} FINAL
      WHERE model = ${quoteString(q.model)} AND shadow = 0 AND eventTime >= ${from} AND eventTime < ${to}) AS p
ALL INNER JOIN (SELECT txnId AS eventId, isFraud FROM ${q.labelsTable ?? LABELS_TABLE} FINAL) AS l USING eventId
ORDER BY eventId, predictionId
LIMIT ${limit}`;
}

export interface LoggedTrainingSet {
  readonly dataset: Dataset;
  /** The score the model served for each dataset row: the baseline a retrained model is compared with. */
  readonly servedScores: Float64Array;
  /** Labelled served predictions read (before skipping). */
  readonly rowsRead: number;
  /** Rows dropped because a model feature was absent or not a finite number. */
  readonly skippedMissingFeatures: number;
  /** Rows dropped because the event was already read (logged more than once). */
  readonly skippedDuplicateEvents: number;
  readonly window: TrainingWindow;
  /** True when rowsRead hit maxRows: the window held more labelled rows than were used. */
  readonly truncated: boolean;
}

interface Row {
  eventId: string;
  predictionId: string;
  score: number | string;
  featureNames: string[];
  /** ClickHouse writes nan/inf as null in JSON. */
  featureValues: Array<number | string | null>;
  isFraud: number | string;
}

/** Reads the training set in `features` order (the base model's input order). */
export async function loadLoggedTrainingSet(
  client: Pick<ClickHouseClient, 'query'>,
  features: readonly string[],
  q: LoggedTrainingSetQuery,
): Promise<LoggedTrainingSet> {
  const result = await client.query({ query: loggedTrainingSetSql(q), format: 'JSONEachRow' });
  const rows = await result.json<Row>();
  const x: number[] = [];
  const y: number[] = [];
  const served: number[] = [];
  let skippedMissingFeatures = 0;
  let skippedDuplicateEvents = 0;
  let previous: string | undefined;
  for (const row of rows) {
    if (row.eventId === previous) {
      skippedDuplicateEvents++;
      continue;
    }
    previous = row.eventId;
    const at = new Map<string, number>();
    row.featureNames.forEach((name, i) => {
      const v = row.featureValues[i];
      at.set(name, v === null || v === undefined ? Number.NaN : Number(v));
    });
    const values = features.map((name) => at.get(name));
    if (values.some((v) => v === undefined || !Number.isFinite(v))) {
      skippedMissingFeatures++;
      continue;
    }
    for (const v of values) x.push(v!);
    y.push(Number(row.isFraud) === 1 ? 1 : 0);
    served.push(Number(row.score));
  }
  return {
    dataset: { featureNames: [...features], rows: y.length, x: Float64Array.from(x), y: Uint8Array.from(y) },
    servedScores: Float64Array.from(served),
    rowsRead: rows.length,
    skippedMissingFeatures,
    skippedDuplicateEvents,
    window: q.window,
    truncated: rows.length >= (q.maxRows ?? DEFAULT_MAX_ROWS),
  };
}
