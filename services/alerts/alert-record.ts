/** Parses an alert from the alerts topic (JSON of the Avro Alert record), saying what is wrong if it is not one. */
import type { AlertRecord } from '../../schemas/index.js';
import { SEVERITIES } from './webhook-config.js';

const KINDS = ['DRIFT', 'RETRAIN', 'MODEL_LIFECYCLE', 'PIPELINE'];

export class AlertRecordError extends Error {
  override readonly name = 'AlertRecordError';
}

export function parseAlert(value: Buffer | null): AlertRecord {
  if (!value || value.length === 0) throw new AlertRecordError('empty message');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new AlertRecordError(`not JSON: ${(err as Error).message}`);
  }
  const a = parsed as Partial<AlertRecord> | null;
  if (!a || typeof a !== 'object') throw new AlertRecordError('not a JSON object');
  const problems: string[] = [];
  for (const field of ['alertId', 'dedupKey', 'title', 'message'] as const) {
    if (typeof a[field] !== 'string' || a[field] === '') problems.push(`${field} must be a non-empty string`);
  }
  if (!SEVERITIES.includes(a.severity as AlertRecord['severity'])) {
    problems.push(`severity must be one of ${SEVERITIES.join(', ')}`);
  }
  if (!KINDS.includes(a.kind as string)) problems.push(`kind must be one of ${KINDS.join(', ')}`);
  if (!Number.isSafeInteger(a.ts)) problems.push('ts must be epoch milliseconds');
  if (problems.length > 0) throw new AlertRecordError(problems.join('; '));
  return { model: null, modelVersion: null, labels: {}, ...a } as AlertRecord;
}
