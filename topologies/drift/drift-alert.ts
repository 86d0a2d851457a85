/**
 * The on-call alert a retrain request raises: drift is what on-call hears about, the request is what the
 * trainer acts on. Everything in it derives from the request, which derives from the window, so a window
 * replayed after a crash raises the same alert id, and receivers (who deduplicate on it) see it once.
 */
import type { AlertRecord, RetrainRequestRecord } from '../../schemas/index.js';

export function driftAlert(request: RetrainRequestRecord, topology: string): AlertRecord {
  const version = `${request.model}@${request.modelVersion}`;
  return {
    alertId: `alert-${request.requestId}`,
    // One ongoing condition per model version: receivers group consecutive drifting windows on it.
    dedupKey: `drift:${version}`,
    kind: 'DRIFT',
    severity: 'WARNING',
    title: `${version} drifted: retraining requested`,
    message:
      `${request.reason}. Retrain request ${request.requestId} went to the trainer; the version it trains ` +
      'arrives as a shadow, and promoting it stays a person\u2019s decision (sluice models promote).',
    model: request.model,
    modelVersion: request.modelVersion,
    labels: {
      topology,
      requestId: request.requestId,
      features: request.breaches.map((b) => b.feature).join(','),
    },
    ts: request.requestedAt,
  };
}
