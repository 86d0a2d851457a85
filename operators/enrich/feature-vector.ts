import { MissingFeatureError } from '../score/score-errors.js';

/**
 * The model input row in the model's declared feature order. The enrich stage has already filled every
 * feature it serves (with defaults where needed), so a gap here means the model needs a feature the
 * feature view does not have at all: an error naming it, never a silent 0.
 */
export function featureVector(
  values: Readonly<Record<string, number>>,
  order: readonly string[],
): Float32Array {
  const row = new Float32Array(order.length);
  const missing: string[] = [];
  order.forEach((name, i) => {
    const v = values[name];
    if (typeof v === 'number' && Number.isFinite(v)) row[i] = v;
    else missing.push(name);
  });
  if (missing.length) throw new MissingFeatureError(missing);
  return row;
}
