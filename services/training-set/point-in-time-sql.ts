/**
 * The point-in-time join of labels to feature views, as SQL for both ClickHouse dialects. A feature row
 * is usable for a label at time t only if its window ended at or before t (window_end <= t); of those,
 * the latest wins. Nothing stamped after t can reach the set.
 *
 * - Current ClickHouse (chdb): ASOF LEFT JOIN ... ON l.entity = v.entity AND l.ts >= v.window_end.
 * - ClickHouse 18.16 (no ASOF JOIN, one JOIN per SELECT): per view, join labels to the view's rows by
 *   entity, keep window_end <= ts, take argMax(feature, window_end) per label row, then LEFT JOIN that
 *   back to the labels by row id; views are joined one nesting level each.
 *
 * Output columns: row_id, entity, ts, label, then per view i: v{i}_we (window end, 0 = no row) and
 * v{i}_f{j} per feature (sorted names). Missing values come back NULL (ASOF) or NaN->null (legacy).
 */
import { checkTableName } from '../../connectors/clickhouse/sql-text.js';

export interface ViewTable {
  readonly table: string;
  readonly features: readonly string[];
}

/** The guard's comparison of window_end to the label time. Only '<=' is point-in-time correct. */
export type FeatureTimeGuard = '<=' | '<' | '>=' | '>';

export interface PointInTimeQuery {
  readonly labelsTable: string;
  readonly views: readonly ViewTable[];
  readonly dialect: 'asof' | 'legacy';
  /**
   * window_end GUARD label ts. Anything but the default '<=' leaks or loses data; it exists so tests can
   * prove that the leak test catches a wrong guard.
   */
  readonly guard?: FeatureTimeGuard;
}

/** ASOF conditions are written label-side first: window_end <= ts is ts >= window_end. */
const FLIPPED: Record<FeatureTimeGuard, string> = { '<=': '>=', '<': '>', '>=': '<=', '>': '<' };

const ORDER = 'ORDER BY ts, entity, label, row_id';

function asofSql(q: PointInTimeQuery, guard: FeatureTimeGuard): string {
  const select = ['l.row_id AS row_id', 'l.entity AS entity', 'l.ts AS ts', 'l.label AS label'];
  const joins: string[] = [];
  q.views.forEach((v, i) => {
    const cols = v.features.map((f, j) => `${f} AS fv_f${j}`).join(', ');
    select.push(`v${i}.fv_we AS v${i}_we`, ...v.features.map((_, j) => `v${i}.fv_f${j} AS v${i}_f${j}`));
    joins.push(
      `ASOF LEFT JOIN (SELECT entity AS fv_entity, window_end AS fv_we${cols ? `, ${cols}` : ''} ` +
        `FROM ${checkTableName(v.table)} FINAL) AS v${i} ` +
        `ON l.entity = v${i}.fv_entity AND l.ts ${FLIPPED[guard]} v${i}.fv_we`,
    );
  });
  return `SELECT ${select.join(', ')} FROM ${checkTableName(q.labelsTable)} AS l ${joins.join(' ')} ${ORDER}`;
}

function legacyViewSql(labels: string, v: ViewTable, i: number, guard: FeatureTimeGuard): string {
  const cols = v.features.map((f, j) => `${f} AS fv_f${j}`).join(', ');
  // The nearest row on the allowed side, as ASOF picks it: the latest before, or the earliest after.
  const [pick, bound] = guard === '<=' || guard === '<' ? ['argMax', 'max'] : ['argMin', 'min'];
  // argMax skips NULL arguments, which would pick an older window's value: NaN stands in for NULL.
  const picks = v.features.map((_, j) => `${pick}(ifNull(toFloat64(fv_f${j}), nan), fv_we) AS v${i}_f${j}`);
  return (
    `SELECT row_id, ${bound}(fv_we) AS v${i}_we${picks.length ? `, ${picks.join(', ')}` : ''} ` +
    `FROM (SELECT row_id, entity, ts FROM ${labels}) ` +
    `ALL INNER JOIN (SELECT entity, window_end AS fv_we${cols ? `, ${cols}` : ''} FROM ${checkTableName(v.table)} FINAL) ` +
    `USING entity WHERE fv_we ${guard} ts GROUP BY row_id`
  );
}

function legacySql(q: PointInTimeQuery, guard: FeatureTimeGuard): string {
  const labels = checkTableName(q.labelsTable);
  let sql = `SELECT row_id, entity, ts, label FROM ${labels}`;
  q.views.forEach((v, i) => {
    sql = `SELECT * FROM (${sql}) ANY LEFT JOIN (${legacyViewSql(labels, v, i, guard)}) USING row_id`;
  });
  return `SELECT * FROM (${sql}) ${ORDER}`;
}

export function pointInTimeSql(q: PointInTimeQuery): string {
  if (q.views.length === 0) throw new Error('a training set needs at least one feature view');
  const guard = q.guard ?? '<=';
  return q.dialect === 'asof' ? asofSql(q, guard) : legacySql(q, guard);
}
