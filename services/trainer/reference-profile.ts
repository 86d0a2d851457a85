/**
 * The training-time reference profile that drift detection compares live windows against: decile bins per
 * numeric feature (fewer when quantiles tie, e.g. small counts) and value frequencies per categorical one.
 */
import type {
  CategoricalProfile,
  NumericProfile,
  ReferenceProfile,
} from '../../connectors/model-registry/model-metadata.js';
import { binIndex, categoryKey } from '../../connectors/model-registry/profile-bins.js';
import type { Dataset, FeatureKind } from './synthetic-data.js';

export const DEFAULT_BINS = 10;

const isMissing = (v: number) => Number.isNaN(v);

/** Quantile cut points by nearest rank on the sorted values, deduplicated so every bin is well defined. */
export function numericProfile(values: ArrayLike<number>, bins = DEFAULT_BINS): NumericProfile {
  if (!Number.isInteger(bins) || bins < 2) throw new Error(`bins must be an integer >= 2, got ${bins}`);
  const present = Array.from(values).filter((v) => !isMissing(v));
  const missingRate = values.length ? (values.length - present.length) / values.length : 0;
  if (present.length === 0) return { kind: 'numeric', edges: [], frequencies: [1], count: 0, missingRate };
  const sorted = Float64Array.from(present).sort();
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = sorted[Math.floor((k / bins) * (sorted.length - 1))]!;
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of present) counts[binIndex(edges, v)]!++;
  return {
    kind: 'numeric',
    edges,
    frequencies: counts.map((c) => c / present.length),
    count: present.length,
    missingRate,
  };
}

export function categoricalProfile(values: ArrayLike<number>): CategoricalProfile {
  const counts = new Map<string, number>();
  let present = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (isMissing(v)) continue;
    present++;
    const key = categoryKey(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const frequencies: Record<string, number> = {};
  for (const [k, c] of [...counts].sort(([a], [b]) => a.localeCompare(b))) frequencies[k] = c / present;
  return {
    kind: 'categorical',
    frequencies,
    count: present,
    missingRate: values.length ? (values.length - present) / values.length : 0,
  };
}

export function buildReferenceProfile(
  data: Dataset,
  kinds: Readonly<Record<string, FeatureKind>>,
  predictions?: ArrayLike<number>,
  bins = DEFAULT_BINS,
): ReferenceProfile {
  const f = data.featureNames.length;
  const features: ReferenceProfile['features'] = {};
  data.featureNames.forEach((name, i) => {
    const column = new Float64Array(data.rows);
    for (let r = 0; r < data.rows; r++) column[r] = data.x[r * f + i]!;
    const kind = kinds[name];
    if (!kind) throw new Error(`no kind (numeric|categorical) given for feature ${name}`);
    features[name] = kind === 'numeric' ? numericProfile(column, bins) : categoricalProfile(column);
  });
  return predictions ? { features, prediction: numericProfile(predictions, bins) } : { features };
}
