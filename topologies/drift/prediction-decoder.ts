/** JSON predictions as the scoring topology's jsonPredictions writes them (pass an Avro serde otherwise). */
import type { Prediction } from '../../connectors/experiments/prediction.js';
import type { RecordDecoder } from '../../operators/decode.js';

const coded = (message: string) => Object.assign(new Error(message), { code: 'PREDICTION_DECODE_ERROR' });

export const jsonPredictionDecoder: RecordDecoder<Prediction> = {
  deserialize(payload) {
    let v: Partial<Prediction>;
    try {
      v = JSON.parse(payload.toString('utf8')) as Partial<Prediction>;
    } catch (err) {
      throw coded(`prediction is not JSON: ${(err as Error).message}`);
    }
    if (
      v === null ||
      typeof v !== 'object' ||
      typeof v.model !== 'string' ||
      typeof v.modelVersion !== 'string' ||
      typeof v.eventTime !== 'number' ||
      typeof v.features !== 'object' ||
      v.features === null
    ) {
      throw coded('prediction lacks model, modelVersion, eventTime or features');
    }
    return v as Prediction;
  },
};
