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
