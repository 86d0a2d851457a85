/**
 * Logistic regression trained by full-batch gradient descent on standardised features, in Float64Array and
 * with a fixed iteration order, so the same data gives bit-identical weights on every run.
 */
import type { Dataset } from './synthetic-data.js';
import type { LogisticParams } from './onnx/logistic-regression-onnx.js';
import { logisticForward } from './onnx/logistic-regression-onnx.js';

export interface TrainOptions {
  readonly epochs?: number;
  readonly learningRate?: number;
  /** L2 penalty on the weights (not the bias). */
  readonly l2?: number;
}

export interface ClassifierMetrics {
  readonly auc: number;
  readonly logLoss: number;
  readonly accuracy: number;
  readonly positiveRate: number;
  readonly rows: number;
}

function columnStats(data: Dataset): { mean: Float64Array; std: Float64Array } {
  const f = data.featureNames.length;
  const mean = new Float64Array(f);
  const std = new Float64Array(f);
  for (let r = 0; r < data.rows; r++) for (let i = 0; i < f; i++) mean[i]! += data.x[r * f + i]!;
  for (let i = 0; i < f; i++) mean[i]! /= data.rows;
  for (let r = 0; r < data.rows; r++) {
    for (let i = 0; i < f; i++) std[i]! += (data.x[r * f + i]! - mean[i]!) ** 2;
  }
  // A constant column would divide by zero in the ONNX graph; 1 leaves it centred and harmless.
  for (let i = 0; i < f; i++) std[i] = Math.sqrt(std[i]! / data.rows) || 1;
  return { mean, std };
}

export function trainLogisticRegression(data: Dataset, options: TrainOptions = {}): LogisticParams {
  const { epochs = 400, learningRate = 0.5, l2 = 1e-4 } = options;
  if (data.rows < 2) throw new Error(`need at least 2 training rows, got ${data.rows}`);
  const f = data.featureNames.length;
  const { mean, std } = columnStats(data);
  const z = new Float64Array(data.rows * f);
  for (let r = 0; r < data.rows; r++) {
    for (let i = 0; i < f; i++) z[r * f + i] = (data.x[r * f + i]! - mean[i]!) / std[i]!;
  }
  const w = new Float64Array(f);
  let b = 0;
  const grad = new Float64Array(f);
  for (let epoch = 0; epoch < epochs; epoch++) {
    grad.fill(0);
    let gradB = 0;
    for (let r = 0; r < data.rows; r++) {
      let logit = b;
      for (let i = 0; i < f; i++) logit += z[r * f + i]! * w[i]!;
      const err = 1 / (1 + Math.exp(-logit)) - data.y[r]!;
      for (let i = 0; i < f; i++) grad[i]! += err * z[r * f + i]!;
      gradB += err;
    }
    for (let i = 0; i < f; i++) w[i]! -= learningRate * (grad[i]! / data.rows + l2 * w[i]!);
    b -= (learningRate * gradB) / data.rows;
  }
  return { featureNames: data.featureNames, mean, std, weights: w, bias: b };
}

export function predictAll(params: LogisticParams, data: Dataset): Float64Array {
  const f = data.featureNames.length;
  const out = new Float64Array(data.rows);
  for (let r = 0; r < data.rows; r++) out[r] = logisticForward(params, data.x.subarray(r * f, r * f + f));
  return out;
}

/** ROC AUC by the rank-sum (Mann-Whitney) formula, with tied scores sharing their average rank. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSumPositives = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]!] === scores[order[start]!]) end++;
    const avgRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSumPositives += avgRank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function evaluateClassifier(scores: ArrayLike<number>, labels: ArrayLike<number>): ClassifierMetrics {
  const n = scores.length;
  let loss = 0;
  let correct = 0;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, scores[i]!));
    const y = labels[i]!;
    loss -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
    if ((p >= 0.5 ? 1 : 0) === y) correct++;
    positives += y;
  }
  return {
    auc: rocAuc(scores, labels),
    logLoss: loss / n,
    accuracy: correct / n,
    positiveRate: positives / n,
    rows: n,
  };
}

/** What a model version records of its fit: holdout figures, and the training fit beside them. */
export function classifierMetricsRecord(
  holdout: ClassifierMetrics,
  train: ClassifierMetrics,
): Record<string, number> {
  return {
    holdoutAuc: holdout.auc,
    holdoutLogLoss: holdout.logLoss,
    holdoutAccuracy: holdout.accuracy,
    holdoutPositiveRate: holdout.positiveRate,
    holdoutRows: holdout.rows,
    trainAuc: train.auc,
    trainLogLoss: train.logLoss,
    trainRows: train.rows,
  };
}
