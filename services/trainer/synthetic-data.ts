/**
 * Deterministic synthetic transaction-risk training data: the same seed gives the same rows on every machine,
 * so a trained model, its metrics and its training-set hash are reproducible. Labels come from a known
 * logistic ground truth plus logit noise, so a learner's quality can be judged against what is learnable.
 */

/** mulberry32: small, fast, and good enough for synthetic data (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  // Box-Muller; 1 - u keeps log() away from 0.
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function poisson(rand: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

export type FeatureKind = 'numeric' | 'categorical';

/** The reference feature view, in model input order. Categorical features are numeric codes. */
export const TXN_RISK_FEATURES: readonly { readonly name: string; readonly kind: FeatureKind }[] = [
  { name: 'txnCount1m', kind: 'numeric' },
  { name: 'amountSum1m', kind: 'numeric' },
  { name: 'amountMean1h', kind: 'numeric' },
  { name: 'merchantDistinct1h', kind: 'numeric' },
  { name: 'amount', kind: 'numeric' },
  { name: 'hourOfDay', kind: 'numeric' },
  { name: 'isForeign', kind: 'categorical' },
];

export const TXN_RISK_FEATURE_NAMES = TXN_RISK_FEATURES.map((f) => f.name);

/** The true data-generating logit (before noise). Night hours add risk non-linearly, as in real fraud. */
export function groundTruthLogit(row: Readonly<Record<string, number>>): number {
  const night = row.hourOfDay! < 5 ? 1 : 0;
  return (
    -5.6 +
    0.9 * row.txnCount1m! +
    0.45 * row.merchantDistinct1h! +
    2.0 * row.isForeign! +
    0.02 * row.amount! +
    0.002 * row.amountSum1m! -
    0.01 * row.amountMean1h! +
    1.2 * night
  );
}

export interface Dataset {
  readonly featureNames: readonly string[];
  readonly rows: number;
  /** Row-major [rows, features]. */
  readonly x: Float64Array;
  /** 0/1 labels. */
  readonly y: Uint8Array;
}

export interface SyntheticOptions {
  readonly rows: number;
  readonly seed: number;
  /** Standard deviation of Gaussian noise added to the logit (default 0.5). */
  readonly logitNoise?: number;
}

export function generateTxnRiskData({ rows, seed, logitNoise = 0.5 }: SyntheticOptions): Dataset {
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`rows must be a positive integer, got ${rows}`);
  const rand = seededRandom(seed);
  const f = TXN_RISK_FEATURE_NAMES.length;
  const x = new Float64Array(rows * f);
  const y = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const txnCount1m = poisson(rand, 1.2);
    const amount = Math.exp(3.4 + 0.9 * normal(rand));
    const amountMean1h = Math.exp(3.4 + 0.5 * normal(rand));
    const row: Record<string, number> = {
      txnCount1m,
      amountSum1m: amount * (1 + txnCount1m) * Math.exp(0.3 * normal(rand)),
      amountMean1h,
      merchantDistinct1h: 1 + poisson(rand, 0.6 + 0.5 * txnCount1m),
      amount,
      hourOfDay: Math.floor(rand() * 24),
      isForeign: rand() < 0.12 ? 1 : 0,
    };
    for (let i = 0; i < f; i++) x[r * f + i] = row[TXN_RISK_FEATURE_NAMES[i]!]!;
    const logit = groundTruthLogit(row) + logitNoise * normal(rand);
    y[r] = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  }
  return { featureNames: TXN_RISK_FEATURE_NAMES, rows, x, y };
}

/** Deterministic split: every k-th row (k = round(1 / holdoutFraction)) goes to the holdout. */
export function splitHoldout(data: Dataset, holdoutFraction = 0.2): { train: Dataset; holdout: Dataset } {
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) {
    throw new Error(`holdoutFraction must be in (0, 1), got ${holdoutFraction}`);
  }
  const k = Math.max(2, Math.round(1 / holdoutFraction));
  const f = data.featureNames.length;
  const pick = (keep: (r: number) => boolean): Dataset => {
    const idx: number[] = [];
    for (let r = 0; r < data.rows; r++) if (keep(r)) idx.push(r);
    const x = new Float64Array(idx.length * f);
    const y = new Uint8Array(idx.length);
    idx.forEach((r, j) => {
      x.set(data.x.subarray(r * f, r * f + f), j * f);
      y[j] = data.y[r]!;
    });
    return { featureNames: data.featureNames, rows: idx.length, x, y };
  };
  return { train: pick((r) => r % k !== k - 1), holdout: pick((r) => r % k === k - 1) };
}
