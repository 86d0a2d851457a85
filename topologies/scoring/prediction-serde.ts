/** Encodings of the `predictions` topic: Avro through the schema-registry serde, or JSON. */
import type { Prediction } from '../../connectors/experiments/prediction.js';
import type { PredictionRecord } from '../../schemas/index.js';
import type { StreamRecord } from '../../schemas/stream.js';

export const PREDICTIONS_TOPIC = 'predictions';

/** The Avro record of a prediction (Prediction.avsc). */
export function toPredictionRecord(p: Prediction): PredictionRecord {
  return {
    predictionId: p.predictionId,
    entity: p.entity,
    eventId: p.eventId,
    eventTime: p.eventTime,
    model: p.model,
    modelVersion: p.modelVersion,
    variant: p.variant,
    experiment: p.experiment,
    experimentVersion: p.experimentVersion,
    shadow: p.shadow,
    score: p.score,
    latencyMs: p.latencyMs,
    features: { ...p.features },
    sourceTopic: p.sourceTopic,
    sourcePartition: p.sourcePartition,
    sourceOffset: p.sourceOffset,
  };
}

/** Pass createAvroSerde(Prediction, registryClient, { topic }) from connectors/schema-registry. */
export const avroPredictions =
  (serde: { serialize(value: PredictionRecord): Buffer | Promise<Buffer> }) =>
  (record: StreamRecord<Prediction>): Buffer | Promise<Buffer> =>
    serde.serialize(toPredictionRecord(record.value));

export const jsonPredictions = (record: StreamRecord<Prediction>): Buffer =>
  Buffer.from(JSON.stringify(record.value));
