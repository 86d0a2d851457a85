/**
 * Classifier metrics from a compact, grouped result: one row per (distinct score, positives, count),
 * ascending by score. Grouping by exact score keeps ties exact (AUC counts a tie as half a win, as the
 * Mann-Whitney U statistic does) and needs no window functions in SQL, so it also runs on ClickHouse 18.16.
 */
import { seededRandom } from '../trainer/synthetic-data.js';

export interface ScoreGroup {
  readonly score: number;
  readonly positives: number;
  readonly count: number;
}

/** AUC = P(score of a random positive > score of a random negative) + 0.5 P(tie); NaN without both classes. */
export function aucOf(groups: readonly ScoreGroup[], pos?: Float64Array, neg?: Float64Array): number {
  let negBelow = 0;
  let wins = 0;
  let p = 0;
  let n = 0;
  for (let i = 0; i < groups.length; i++) {
    const gp = pos ? pos[i]! : groups[i]!.positives;
    const gn = neg ? neg[i]! : groups[i]!.count - groups[i]!.positives;
    wins += gp * (negBelow + 0.5 * gn);
    negBelow += gn;
    p += gp;
    n += gn;
  }
  return p > 0 && n > 0 ? wins / (p * n) : Number.NaN;
}

const EPS = 1e-15;

/** Mean binary cross-entropy, with scores clipped to [1e-15, 1 - 1e-15] as scikit-learn does. */
export function logLossOf(groups: readonly ScoreGroup[]): number {
  let total = 0;
  let n = 0;
  for (const g of groups) {
    const s = Math.min(1 - EPS, Math.max(EPS, g.score));
    total -= g.positives * Math.log(s) + (g.count - g.positives) * Math.log(1 - s);
    n += g.count;
  }
  return n > 0 ? total / n : Number.NaN;
}

/**
 * Share of positives among the k highest scores. Rows tied at the cut-off count in proportion (the
 * expected value over any order of the tied rows), so the answer does not depend on storage order.
 */
export function precisionAtK(groups: readonly ScoreGroup[], k: number): number {
  const total = groups.reduce((s, g) => s + g.count, 0);
  const take = Math.min(k, total);
  if (take <= 0) return Number.NaN;
  let left = take;
  let hits = 0;
  for (let i = groups.length - 1; i >= 0 && left > 0; i--) {
    const g = groups[i]!;
    const used = Math.min(left, g.count);
    hits += (g.positives * used) / g.count;
    left -= used;
  }
  return hits / take;
}

/**
 * Percentile bootstrap 95% interval of the AUC: resample rows with replacement (seeded, so the same data
 * and seed give the same interval), recompute the AUC, take the 2.5th and 97.5th percentiles. Resampling
 * works on group counts, so each resample costs O(rows + groups) with no sorting.
 */
export function bootstrapAucCi(
  groups: readonly ScoreGroup[],
  options: { resamples: number; seed: number },
): [number, number] {
  const n = groups.reduce((s, g) => s + g.count, 0);
  if (n === 0) return [Number.NaN, Number.NaN];
  // Row i belongs to group groupOf[i]; its label is positive for the first `positives` rows of a group.
  const groupOf = new Uint32Array(n);
  const positive = new Uint8Array(n);
  let at = 0;
  groups.forEach((g, gi) => {
    for (let j = 0; j < g.count; j++, at++) {
      groupOf[at] = gi;
      positive[at] = j < g.positives ? 1 : 0;
    }
  });
  const rand = seededRandom(options.seed);
  const pos = new Float64Array(groups.length);
  const neg = new Float64Array(groups.length);
  const aucs: number[] = [];
  for (let b = 0; b < options.resamples; b++) {
    pos.fill(0);
    neg.fill(0);
    for (let d = 0; d < n; d++) {
      const i = Math.floor(rand() * n);
      if (positive[i]) pos[groupOf[i]!]! += 1;
      else neg[groupOf[i]!]! += 1;
    }
    const auc = aucOf(groups, pos, neg);
    if (!Number.isNaN(auc)) aucs.push(auc);
  }
  if (aucs.length === 0) return [Number.NaN, Number.NaN];
  aucs.sort((a, b) => a - b);
  const q = (p: number) => aucs[Math.min(aucs.length - 1, Math.max(0, Math.floor(p * aucs.length)))]!;
  return [q(0.025), q(0.975)];
}
