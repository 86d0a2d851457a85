/**
 * Bins each prediction on its model version's reference profile (drift-sample.ts). Predictions of a
 * version without a usable profile go to the dead-letter topic with the reason; the partition keeps going.
 */
import type { Prediction } from '../../connectors/experiments/prediction.js';
import { rawOf } from '../../operators/raw-of.js';
import { recordStage } from '../../operators/record-stage.js';
import type { Stage, StreamRecord } from '../../schemas/stream.js';
import { modelKey, toDriftSample, type DriftSample } from './drift-sample.js';
import { ProfileUnavailableError, type ProfileCache } from './profile-cache.js';

export function binPredictions(profiles: ProfileCache): Stage<Prediction, DriftSample> {
  return recordStage<Prediction, DriftSample>((ctx) => {
    const sample = (record: StreamRecord<Prediction>, layouts: Parameters<typeof toDriftSample>[1]) => ({
      ...record,
      key: modelKey(record.value.model, record.value.modelVersion),
      value: toDriftSample(record.value, layouts),
    });
    return (record) => {
      const p = record.value;
      if (typeof p?.model !== 'string' || typeof p.modelVersion !== 'string') {
        ctx.side.deadLetter(rawOf(ctx, record), {
          code: 'DRIFT_PREDICTION_INVALID',
          message: 'prediction has no model / modelVersion',
        });
        return null;
      }
      const cached = profiles.peek(p.model, p.modelVersion);
      if (cached) return sample(record, cached);
      return profiles.get(p.model, p.modelVersion).then(
        (layouts) => sample(record, layouts),
        (err: unknown) => {
          if (!(err instanceof ProfileUnavailableError)) throw err;
          ctx.side.deadLetter(rawOf(ctx, record), { code: err.code, message: err.message });
          return null;
        },
      );
    };
  });
}
