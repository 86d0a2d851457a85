/**
 * A logged prediction: the Avro Prediction record (schemas/Prediction.avsc) plus what A/B evaluation and
 * replays need and the Avro schema does not carry yet: the experiment version and the id of the scored
 * event (e.g. txnId, the join key to labels).
 */
import type { PredictionRecord } from '../../schemas/index.js';

export interface Prediction extends PredictionRecord {
  readonly experimentVersion: number | null;
  /** Id of the scored event (txnId for transactions); labels join on it. */
  readonly eventId: string;
}
