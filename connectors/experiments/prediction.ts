/**
 * A logged prediction: the Avro Prediction record (schemas/Prediction.avsc), which carries the experiment
 * version and the id of the scored event (e.g. txnId, the join key to labels).
 */
import type { PredictionRecord } from '../../schemas/index.js';

export type Prediction = PredictionRecord;
