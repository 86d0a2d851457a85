/**
 * What the trainer tells on-call: a version trained from a request (INFO, with its holdout AUC beside the
 * served model's on the same rows, so a person can judge the promotion), or a request it could not serve
 * (WARNING: drift goes on and nothing will replace the model). Ids derive from the request, so a request
 * redelivered after a crash raises the same alert id again, which receivers deduplicate on.
 */
import type { DeadLetterReason } from '../../../schemas/stream.js';
import type { AlertRecord } from '../../../schemas/index.js';
import type { ModelMetadata } from '../../../connectors/model-registry/model-metadata.js';

const auc = (metrics: Readonly<Record<string, number>>, key: string) =>
  metrics[key] === undefined ? 'n/a' : Number(metrics[key]).toFixed(3);

export function trainedAlert(requestId: string, metadata: ModelMetadata, basedOn: string): AlertRecord {
  const m = metadata.trainingMetrics;
  return {
    alertId: `alert-trained-${requestId}`,
    dedupKey: `retrain:${metadata.name}`,
    kind: 'RETRAIN',
    severity: 'INFO',
    title: `${metadata.name}@${metadata.version} trained as a shadow of ${metadata.name}@${basedOn}`,
    message:
      `Retrain request ${requestId}: holdout AUC ${auc(m, 'holdoutAuc')} against ${auc(m, 'holdoutServedAuc')} ` +
      `for the scores served on the same rows. It runs in shadow; promote it with ` +
      `\`sluice models promote ${metadata.name} ${metadata.version}\` if it is better.`,
    model: metadata.name,
    modelVersion: metadata.version,
    labels: { requestId, basedOn },
    ts: Date.parse(metadata.createdAt),
  };
}

export function refusedAlert(
  requestId: string | null,
  model: string | null,
  reason: DeadLetterReason,
  source: { readonly partition: number; readonly offset: string; readonly timestamp: number },
  deadLetterTopic: string,
): AlertRecord {
  const where = `${source.partition}@${source.offset}`;
  return {
    alertId: `alert-refused-${requestId ?? where}`,
    dedupKey: `retrain:${model ?? 'unknown'}`,
    kind: 'RETRAIN',
    severity: 'WARNING',
    title: `Retrain request ${requestId ?? `at ${where}`} for ${model ?? 'an unreadable model'} was refused`,
    message:
      `${reason.code}: ${reason.message}. No new version will come from it; the request is in ` +
      `${deadLetterTopic} (\`sluice dlq list ${deadLetterTopic.replace(/\.dlq$/, '')}\`).`,
    model,
    modelVersion: null,
    labels: { code: reason.code, ...(requestId ? { requestId } : {}) },
    ts: source.timestamp,
  };
}
