/** Parses an alert from the alerts topic (JSON of the Avro Alert record), saying what is wrong if it is not one. */
import { Ajv } from 'ajv';
import { schemaProblems } from '../../connectors/schema-problems.js';
import { AlertKindSymbols, AlertSeveritySymbols, type AlertRecord } from '../../schemas/index.js';

const nonEmpty = { type: 'string', minLength: 1 };
const validateAlert = new Ajv({ allErrors: true }).compile({
  type: 'object',
  required: ['alertId', 'dedupKey', 'kind', 'severity', 'title', 'message', 'ts'],
  properties: {
    alertId: nonEmpty,
    dedupKey: nonEmpty,
    kind: { enum: [...AlertKindSymbols] },
    severity: { enum: [...AlertSeveritySymbols] },
    title: nonEmpty,
    message: nonEmpty,
    model: { type: ['string', 'null'] },
    modelVersion: { type: ['string', 'null'] },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    ts: { type: 'integer', minimum: 0, description: 'epoch milliseconds' },
  },
});

export class AlertRecordError extends Error {
  override readonly name = 'AlertRecordError';
}

export function parseAlert(value: Buffer | null): AlertRecord {
  if (!value || value.length === 0) throw new AlertRecordError('empty message');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new AlertRecordError(`not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!validateAlert(parsed)) {
    throw new AlertRecordError(schemaProblems(validateAlert.errors, '(alert)').join('; '));
  }
  return { model: null, modelVersion: null, labels: {}, ...(parsed as Partial<AlertRecord>) } as AlertRecord;
}
