/**
 * The retrain request a breaching window produces. Its id is derived from the model version and the
 * window, so a window replayed after a crash produces the same request again and the trainer can drop
 * the duplicate (at-least-once delivery, idempotent by id).
 */
import { createHash } from 'node:crypto';
import type { DriftBreachRecord, RetrainRequestRecord } from '../../schemas/index.js';

export function retrainRequestId(
  model: string,
  modelVersion: string,
  windowStart: number,
  windowEnd: number,
) {
  const digest = createHash('sha256')
    .update(`drift\u0000${model}\u0000${modelVersion}\u0000${windowStart}\u0000${windowEnd}`)
    .digest('hex');
  return `drift-${digest.slice(0, 32)}`;
}

export function driftRetrainRequest(
  model: string,
  modelVersion: string,
  window: { readonly start: number; readonly end: number },
  breaches: readonly DriftBreachRecord[],
): RetrainRequestRecord {
  const list = breaches.map((b) => `${b.feature} ${b.metric} ${b.value.toFixed(3)} > ${b.threshold}`);
  return {
    requestId: retrainRequestId(model, modelVersion, window.start, window.end),
    model,
    modelVersion,
    trigger: 'DRIFT',
    reason:
      `drift in window ${new Date(window.start).toISOString()}..${new Date(window.end).toISOString()}: ` +
      list.join(', '),
    breaches: [...breaches],
    trainFrom: null,
    trainTo: null,
    // Event time of the deciding window, not the wall clock: a replay must produce an identical request.
    requestedAt: window.end,
  };
}
