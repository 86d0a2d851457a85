/** Why a model was refused at load or swap time; the scorer keeps serving its current model in every case. */
export type ModelValidationCode =
  | 'CORRUPT_MODEL'
  | 'NO_EXECUTION_PROVIDER'
  | 'INPUT_MISMATCH'
  | 'OUTPUT_MISMATCH'
  | 'SHAPE_MISMATCH'
  | 'MISSING_FEATURES'
  | 'FEATURES_CHANGED'
  | 'PROBE_FAILED';

export class ModelValidationError extends Error {
  override readonly name = 'ModelValidationError';
  constructor(
    readonly code: ModelValidationCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A row handed to score() that cannot be scored (wrong length, non-finite value). */
export class InvalidRowError extends Error {
  override readonly name = 'InvalidRowError';
}

/** A record lacks values for features the model needs. */
export class MissingFeatureError extends Error {
  override readonly name = 'MissingFeatureError';
  constructor(readonly missing: readonly string[]) {
    super(`record is missing feature value(s) ${missing.join(', ')}; the enrich stage must supply them`);
  }
}

export class ScorerClosedError extends Error {
  override readonly name = 'ScorerClosedError';
  constructor() {
    super('scorer is closed; create a new one');
  }
}
