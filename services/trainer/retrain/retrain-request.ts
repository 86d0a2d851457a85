/**
 * Parses and validates a RetrainRequest record (schemas/RetrainRequest.avsc) read from the retrain topic as
 * JSON. Fields with an Avro default (breaches, trainFrom, trainTo) may be absent; unknown fields are allowed
 * so a producer on a newer schema version does not send every request to the dead-letter topic.
 */
import { Ajv } from 'ajv';
import { schemaProblems } from '../../../connectors/schema-problems.js';
import type { RetrainRequestRecord } from '../../../schemas/index.js';
import { DriftMetricKindSymbols, RetrainTriggerSymbols } from '../../../schemas/index.js';

/** Same rule as the model registry's names, so a bad model name is refused here, not by the registry. */
const SAFE_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const timestamp = { type: 'integer', minimum: 0 };

const ajv = new Ajv({ allErrors: true });
const validateRecord = ajv.compile({
  type: 'object',
  required: ['requestId', 'model', 'modelVersion', 'trigger', 'reason', 'requestedAt'],
  properties: {
    requestId: { type: 'string', minLength: 1, maxLength: 256 },
    model: { type: 'string', pattern: SAFE_NAME },
    modelVersion: { type: 'string', pattern: SAFE_NAME },
    trigger: { enum: [...RetrainTriggerSymbols] },
    reason: { type: 'string' },
    breaches: {
      type: 'array',
      items: {
        type: 'object',
        required: ['feature', 'metric', 'value', 'threshold'],
        properties: {
          feature: { type: 'string' },
          metric: { enum: [...DriftMetricKindSymbols] },
          value: { type: 'number' },
          threshold: { type: 'number' },
        },
      },
    },
    trainFrom: { anyOf: [{ type: 'null' }, timestamp] },
    trainTo: { anyOf: [{ type: 'null' }, timestamp] },
    requestedAt: timestamp,
  },
});

export type RetrainRequestErrorCode = 'NOT_JSON' | 'INVALID_RETRAIN_REQUEST';

export class RetrainRequestError extends Error {
  override readonly name = 'RetrainRequestError';
  constructor(
    readonly code: RetrainRequestErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Validates an already-decoded value; throws RetrainRequestError naming every problem found. */
export function validateRetrainRequest(value: unknown): RetrainRequestRecord {
  if (!validateRecord(value)) {
    throw new RetrainRequestError(
      'INVALID_RETRAIN_REQUEST',
      `retrain request is invalid: ${schemaProblems(validateRecord.errors, '(record)').join('; ')}`,
    );
  }
  const v = value as Partial<RetrainRequestRecord> & Record<string, unknown>;
  const request: RetrainRequestRecord = {
    requestId: v.requestId!,
    model: v.model!,
    modelVersion: v.modelVersion!,
    trigger: v.trigger!,
    reason: v.reason!,
    breaches: v.breaches ?? [],
    trainFrom: v.trainFrom ?? null,
    trainTo: v.trainTo ?? null,
    requestedAt: v.requestedAt!,
  };
  if (request.trainFrom !== null && request.trainTo !== null && request.trainFrom >= request.trainTo) {
    throw new RetrainRequestError(
      'INVALID_RETRAIN_REQUEST',
      `retrain request ${request.requestId} is invalid: trainFrom (${request.trainFrom}) must be before ` +
        `trainTo (${request.trainTo})`,
    );
  }
  return request;
}

/** Parses the JSON bytes of a Kafka record value. */
export function parseRetrainRequest(value: Buffer | string | null): RetrainRequestRecord {
  if (value === null || value.length === 0) {
    throw new RetrainRequestError('NOT_JSON', 'retrain request has no value (a tombstone or empty record)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    throw new RetrainRequestError(
      'NOT_JSON',
      `retrain request is not JSON (${(err as Error).message}); the drift topology writes JSON records`,
      { cause: err },
    );
  }
  return validateRetrainRequest(parsed);
}
