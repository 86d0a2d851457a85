/**
 * The A/B report of an experiment: served predictions (and shadows, reported separately) joined to labels,
 * per variant: n, positives, AUC with a seeded bootstrap 95% CI, log loss and precision@k.
 *
 * Where the work happens: ClickHouse deduplicates (FINAL), joins predictions to labels on the event id and
 * groups rows by (variant, shadow, exact score) into positive and total counts; TypeScript computes the
 * metrics from that compact result (metrics.ts). The SQL uses no query parameters, window functions or
 * newer syntax, so it runs on embedded chdb and on ClickHouse 18.16 over HTTP alike.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import {
  LABELS_TABLE,
  PREDICTIONS_TABLE,
  sqlString,
} from '../../connectors/clickhouse-tables/predictions.js';
import type { ScoreGroup } from './metrics.js';
import { aucOf, bootstrapAucCi, logLossOf, precisionAtK } from './metrics.js';

export interface ExperimentReportOptions {
  /** Only predictions made under this experiment version. */
  readonly experimentVersion?: number;
  /** k of precision@k (default 100). */
  readonly k?: number;
  /** Bootstrap resamples (default 500) and seed (default 1). */
  readonly resamples?: number;
  readonly seed?: number;
  /** Include shadow predictions as separate rows (default true). */
  readonly includeShadows?: boolean;
  readonly predictionsTable?: string;
  readonly labelsTable?: string;
}

export interface VariantReport {
  readonly variant: string;
  readonly shadow: boolean;
  /** Labelled predictions. */
  readonly n: number;
  readonly positives: number;
  readonly auc: number;
  readonly aucCi95: readonly [number, number];
  readonly logLoss: number;
  readonly k: number;
  readonly precisionAtK: number;
}

export interface ExperimentReport {
  readonly experiment: string;
  readonly experimentVersion: number | null;
  readonly resamples: number;
  readonly seed: number;
  readonly variants: readonly VariantReport[];
}

/**
 * ALL (not ANY) INNER JOIN: newer ClickHouse makes ANY joins one-to-one, so a label would match only one of
 * the served and shadow predictions of its event. Labels are unique per txnId after FINAL, so ALL joins
 * each prediction to at most one label.
 */
export function experimentReportSql(name: string, o: ExperimentReportOptions = {}): string {
  const where = [`experiment = ${sqlString(name)}`];
  if (o.experimentVersion !== undefined) {
    if (!Number.isInteger(o.experimentVersion) || o.experimentVersion < 1) {
      throw new RangeError(`experimentVersion must be a positive integer, got ${o.experimentVersion}`);
    }
    where.push(`experimentVersion = ${o.experimentVersion}`);
  }
  if (o.includeShadows === false) where.push('shadow = 0');
  return `SELECT variant, shadow, score, sum(isFraud) AS positives, count() AS n
FROM (SELECT eventId, variant, shadow, score FROM ${o.predictionsTable ?? PREDICTIONS_TABLE} FINAL
      WHERE ${where.join(' AND ')}) AS p
ALL INNER JOIN (SELECT txnId AS eventId, isFraud FROM ${o.labelsTable ?? LABELS_TABLE} FINAL) AS l USING eventId
GROUP BY variant, shadow, score
ORDER BY variant, shadow, score`;
}

interface GroupRow {
  variant: string;
  shadow: number | string;
  score: number | string;
  positives: number | string;
  n: number | string;
}

export async function experimentReport(
  client: Pick<ClickHouseClient, 'query'>,
  name: string,
  options: ExperimentReportOptions = {},
): Promise<ExperimentReport> {
  const k = options.k ?? 100;
  const resamples = options.resamples ?? 500;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  }
  const result = await client.query({ query: experimentReportSql(name, options), format: 'JSONEachRow' });
  // 18.16 returns UInt64 as strings; chdb as numbers.
  const rows = await result.json<GroupRow>();
  const byVariant = new Map<string, { variant: string; shadow: boolean; groups: ScoreGroup[] }>();
  for (const r of rows) {
    const shadow = Number(r.shadow) === 1;
    const key = `${shadow ? 1 : 0}\u0000${r.variant}`;
    let entry = byVariant.get(key);
    if (!entry) byVariant.set(key, (entry = { variant: r.variant, shadow, groups: [] }));
    entry.groups.push({ score: Number(r.score), positives: Number(r.positives), count: Number(r.n) });
  }
  const variants = [...byVariant.values()]
    .sort((a, b) => Number(a.shadow) - Number(b.shadow) || a.variant.localeCompare(b.variant))
    .map(({ variant, shadow, groups }): VariantReport => {
      groups.sort((a, b) => a.score - b.score);
      return {
        variant,
        shadow,
        n: groups.reduce((s, g) => s + g.count, 0),
        positives: groups.reduce((s, g) => s + g.positives, 0),
        auc: aucOf(groups),
        aucCi95: bootstrapAucCi(groups, { resamples, seed }),
        logLoss: logLossOf(groups),
        k,
        precisionAtK: precisionAtK(groups, k),
      };
    });
  return {
    experiment: name,
    experimentVersion: options.experimentVersion ?? null,
    resamples,
    seed,
    variants,
  };
}
