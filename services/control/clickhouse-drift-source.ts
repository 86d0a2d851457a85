/**
 * Drift over time for the control page, from the drift topology's ClickHouse table (sluice.drift_metrics).
 * One series per feature and metric; when several versions of the model have windows in the range, each
 * version gets its own series, named `feature@version`, so their points never interleave on one line.
 */
import type { ClickHouseClient } from '../../connectors/clickhouse/clickhouse-client.js';
import {
  clickHouseErrorCode,
  isTransientClickHouseError,
  quoteString,
} from '../../connectors/clickhouse/index.js';
import { DRIFT_METRICS_TABLE } from '../../topologies/drift/drift-table.js';
import { SourceUnavailableError, type DriftPoint, type DriftSeries, type DriftSource } from './sources.js';

/** A missing-rate series without a configured threshold draws its line at 1, which no rate exceeds. */
const NO_THRESHOLD = 1;
/** ClickHouse error codes for a table / database that does not exist yet. */
const UNKNOWN_TABLE = 60;
const UNKNOWN_DATABASE = 81;
/** The score's series is named like this on the page (sources.ts). */
const PREDICTION_FEATURE = 'prediction';

interface Row {
  modelVersion: string;
  target: string;
  feature: string;
  metric: string;
  value: number | string;
  threshold: number | string | null;
  sampleSize: number | string;
  breached: number | string;
  windowStart: number | string;
}

export interface ClickHouseDriftSourceOptions {
  readonly table?: string;
}

export function clickHouseDriftSource(
  client: Pick<ClickHouseClient, 'query'>,
  options: ClickHouseDriftSourceOptions = {},
): DriftSource {
  const table = options.table ?? DRIFT_METRICS_TABLE;
  return {
    async series(q) {
      if (!Number.isSafeInteger(q.from) || !Number.isSafeInteger(q.to)) {
        throw new RangeError('drift query from/to must be whole epoch milliseconds');
      }
      // FINAL: a replayed window was written twice until parts merge; FINAL shows it once.
      const query =
        `SELECT modelVersion, target, feature, metric, value, threshold, sampleSize, breached, windowStart ` +
        `FROM ${table} FINAL WHERE model = ${quoteString(q.model)} ` +
        `AND windowStart >= ${Math.max(0, q.from)} AND windowStart < ${Math.max(0, q.to)} ` +
        (q.version !== undefined ? `AND modelVersion = ${quoteString(q.version)} ` : '') +
        `ORDER BY modelVersion, target, feature, metric, windowStart`;
      let rows: Row[];
      try {
        rows = await (await client.query({ query, format: 'JSONEachRow' })).json<Row>();
      } catch (err) {
        const code = clickHouseErrorCode(err);
        if (code === UNKNOWN_TABLE || code === UNKNOWN_DATABASE) {
          return []; // the drift topology has not run against this store yet: no windows, not an outage
        }
        if (isTransientClickHouseError(err)) {
          throw new SourceUnavailableError(`the offline store is unreachable: ${(err as Error).message}`);
        }
        throw err;
      }
      return toSeries(q.version !== undefined ? rows : activeVersions(rows));
    },
  };
}

/**
 * Without a version asked for, the versions that have the range's latest window: what serves now (two
 * under an A/B test), not every version ever deployed, whose charts would bury the current ones.
 */
function activeVersions(rows: readonly Row[]): Row[] {
  const lastWindow = new Map<string, number>();
  for (const r of rows) {
    const start = Number(r.windowStart);
    if (start > (lastWindow.get(r.modelVersion) ?? -Infinity)) lastWindow.set(r.modelVersion, start);
  }
  const latest = Math.max(...lastWindow.values());
  return rows.filter((r) => lastWindow.get(r.modelVersion) === latest);
}

/**
 * A missing-rate series without a threshold whose every window is 0 says "nothing missing"; it is left out
 * of the charts (the rows stay in ClickHouse), so the features that do drift are not lost among them.
 */
function uneventful(series: { metric: string; threshold: number; points: readonly DriftPoint[] }): boolean {
  return (
    series.metric === 'missing_rate' &&
    series.threshold === NO_THRESHOLD &&
    series.points.every((p) => p.value === 0)
  );
}

function toSeries(rows: readonly Row[]): DriftSeries[] {
  const versions = new Set(rows.map((r) => r.modelVersion));
  const byName = new Map<
    string,
    { feature: string; metric: string; threshold: number; points: DriftPoint[] }
  >();
  for (const r of rows) {
    const base = r.target === 'PREDICTION' ? PREDICTION_FEATURE : r.feature;
    const feature = versions.size > 1 ? `${base}@${r.modelVersion}` : base;
    const metric = r.metric.toLowerCase();
    const id = `${feature}\u0000${metric}`;
    let series = byName.get(id);
    if (!series) {
      series = { feature, metric, threshold: NO_THRESHOLD, points: [] };
      byName.set(id, series);
    }
    // UInt64 arrives as a string from 18.16 and as a number from chdb.
    if (r.threshold !== null) series.threshold = Number(r.threshold);
    series.points.push({
      windowStart: Number(r.windowStart),
      value: Number(r.value),
      sampleSize: Number(r.sampleSize),
      breached: Number(r.breached) === 1,
    });
  }
  return [...byName.values()].filter((s) => !uneventful(s));
}
