/**
 * How live values of one feature are binned so they line up with its reference profile. Numeric features
 * use the profile's edges (the shared binIndex rule, so training and drift never bin differently);
 * categorical ones use the profile's categories in sorted order plus one trailing "unseen" bin whose
 * reference share is 0 (PSI's epsilon then makes a new category count as drift instead of vanishing).
 */
import type {
  FeatureProfile,
  NumericProfile,
  ReferenceProfile,
} from '../../connectors/model-registry/model-metadata.js';
import { binIndex, categoryKey } from '../../connectors/model-registry/profile-bins.js';

/** Bin index of a missing value (absent key, null, NaN, +-Infinity). */
export const MISSING_BIN = -1;

export interface BinLayout {
  /** Reference fraction of non-missing values per bin. */
  readonly expected: readonly number[];
  /** Reference fraction of missing values. */
  readonly missingRate: number;
  /** Bin of a present value, or MISSING_BIN. */
  bin(value: unknown): number;
}

export class ProfileLayoutError extends Error {
  override readonly name = 'ProfileLayoutError';
}

const present = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function numericLayout(where: string, p: NumericProfile): BinLayout {
  if (p.frequencies.length !== p.edges.length + 1) {
    throw new ProfileLayoutError(
      `${where}: ${p.edges.length} edges need ${p.edges.length + 1} frequencies, found ${p.frequencies.length}; ` +
        're-register the model with a profile built by services/trainer/reference-profile.ts',
    );
  }
  for (let i = 1; i < p.edges.length; i++) {
    if (!(p.edges[i]! > p.edges[i - 1]!)) {
      throw new ProfileLayoutError(`${where}: edges must be strictly ascending (edge ${i} is not)`);
    }
  }
  const edges = [...p.edges];
  return {
    expected: [...p.frequencies],
    missingRate: p.missingRate,
    bin: (value) => (present(value) ? binIndex(edges, value) : MISSING_BIN),
  };
}

export function layoutOf(where: string, profile: FeatureProfile): BinLayout {
  if (profile.kind === 'numeric') return numericLayout(where, profile);
  const categories = Object.keys(profile.frequencies).sort();
  const index = new Map(categories.map((c, i) => [c, i]));
  return {
    expected: [...categories.map((c) => profile.frequencies[c]!), 0],
    missingRate: profile.missingRate,
    bin: (value) => (present(value) ? (index.get(categoryKey(value)) ?? categories.length) : MISSING_BIN),
  };
}

/** The layouts of one model version: its features (sorted by name) and, if profiled, its score. */
export interface ModelLayouts {
  readonly model: string;
  readonly modelVersion: string;
  readonly features: ReadonlyMap<string, BinLayout>;
  readonly score: BinLayout | null;
}

export function modelLayouts(model: string, modelVersion: string, profile: ReferenceProfile): ModelLayouts {
  const where = `reference profile of ${model}@${modelVersion}`;
  const names = Object.keys(profile.features).sort();
  if (names.length === 0) throw new ProfileLayoutError(`${where} has no features to monitor`);
  const features = new Map(names.map((n) => [n, layoutOf(`${where}, feature ${n}`, profile.features[n]!)]));
  const score = profile.prediction ? layoutOf(`${where}, prediction`, profile.prediction) : null;
  return { model, modelVersion, features, score };
}
