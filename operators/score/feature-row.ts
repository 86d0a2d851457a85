import { MissingFeatureError } from './score-errors.js';

/**
 * Builds the model input row from a record of feature values, in the model's feature order. A missing or
 * non-numeric value is an error naming every missing feature, never a silent NaN or 0.
 */
export function toFeatureRow(
  values: Readonly<Record<string, number | null | undefined>>,
  features: readonly string[],
): Float32Array {
  const row = new Float32Array(features.length);
  const missing: string[] = [];
  features.forEach((name, i) => {
    const v = values[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) missing.push(name);
    else row[i] = v;
  });
  if (missing.length) throw new MissingFeatureError(missing);
  return row;
}

/**
 * Whether every value of a model input is finite. x * 0 is ±0 for finite x and NaN for NaN and ±Infinity;
 * four running sums so the adds do not wait on each other (~1 µs for a 256 x 7 batch).
 */
export function allFinite(values: Float32Array): boolean {
  const n = values.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += values[k]! * 0;
    s1 += values[k + 1]! * 0;
    s2 += values[k + 2]! * 0;
    s3 += values[k + 3]! * 0;
  }
  for (; k < n; k++) s0 += values[k]! * 0;
  return s0 + s1 + s2 + s3 === 0;
}
