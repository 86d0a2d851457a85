/**
 * What the registry stores next to each model.onnx, and the JSON schema that guards it. The reference profile
 * is the contract with drift detection: live windows bin features on exactly these edges.
 */
import { Ajv } from 'ajv';
import { schemaProblems } from '../schema-problems.js';

export const MODEL_STAGES = ['shadow', 'challenger', 'champion', 'archived'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

export interface NumericProfile {
  readonly kind: 'numeric';
  /**
   * Ascending interior cut points (at most 9 for 10 bins; fewer when quantiles tie). Bin i holds
   * values v with edges[i-1] < v <= edges[i]; the first and last bins are open-ended.
   */
  readonly edges: number[];
  /** Fraction of non-missing training values in each bin (edges.length + 1 entries, summing to 1). */
  readonly frequencies: number[];
  readonly count: number;
  readonly missingRate: number;
}

export interface CategoricalProfile {
  readonly kind: 'categorical';
  /** Fraction of non-missing training values per category (category as a string). */
  readonly frequencies: Record<string, number>;
  readonly count: number;
  readonly missingRate: number;
}

export type FeatureProfile = NumericProfile | CategoricalProfile;

export interface ReferenceProfile {
  readonly features: Record<string, FeatureProfile>;
  /** Distribution of the model's own scores on the holdout set, for prediction drift. */
  readonly prediction?: NumericProfile;
}

export interface StageChange {
  readonly from: ModelStage | null;
  readonly to: ModelStage;
  readonly at: string;
  readonly reason: string;
  /** On a change to champion: the version it replaced, which is what rollback restores. */
  readonly replaced?: string;
}

/** What a trainer hands to the registry (everything except lifecycle bookkeeping). */
export interface ModelCandidate {
  readonly name: string;
  readonly version: string;
  /** Feature names in model input column order. */
  readonly features: string[];
  readonly inputName: string;
  readonly outputName: string;
  readonly sha256: string;
  readonly referenceProfile: ReferenceProfile;
  readonly trainingMetrics: Record<string, number>;
  readonly trainingSetHash: string;
  /** Feature view name -> version the training set was read from. */
  readonly featureViewVersions: Record<string, string>;
  /** Set by the trainer when a retrain request produced this version: lineage, and redelivery detection. */
  readonly trainedFor?: { readonly requestId: string; readonly trigger: string; readonly basedOn: string };
}

export interface ModelMetadata extends ModelCandidate {
  readonly stage: ModelStage;
  readonly createdAt: string;
  readonly stageHistory: StageChange[];
}

const numericProfile = {
  type: 'object',
  required: ['kind', 'edges', 'frequencies', 'count', 'missingRate'],
  properties: {
    kind: { const: 'numeric' },
    edges: { type: 'array', items: { type: 'number' } },
    frequencies: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 1 },
    count: { type: 'integer', minimum: 0 },
    missingRate: { type: 'number', minimum: 0, maximum: 1 },
  },
};
const categoricalProfile = {
  type: 'object',
  required: ['kind', 'frequencies', 'count', 'missingRate'],
  properties: {
    kind: { const: 'categorical' },
    frequencies: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 } },
    count: { type: 'integer', minimum: 0 },
    missingRate: { type: 'number', minimum: 0, maximum: 1 },
  },
};
const SAFE_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';

const candidateProperties = {
  name: { type: 'string', pattern: SAFE_NAME },
  version: { type: 'string', pattern: SAFE_NAME },
  features: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true },
  inputName: { type: 'string', minLength: 1 },
  outputName: { type: 'string', minLength: 1 },
  sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  referenceProfile: {
    type: 'object',
    required: ['features'],
    properties: {
      features: { type: 'object', additionalProperties: { oneOf: [numericProfile, categoricalProfile] } },
      prediction: numericProfile,
    },
  },
  trainingMetrics: { type: 'object', additionalProperties: { type: 'number' } },
  trainingSetHash: { type: 'string', minLength: 1 },
  featureViewVersions: { type: 'object', additionalProperties: { type: 'string' } },
  trainedFor: {
    type: 'object',
    required: ['requestId', 'trigger', 'basedOn'],
    properties: {
      requestId: { type: 'string', minLength: 1 },
      trigger: { type: 'string', minLength: 1 },
      basedOn: { type: 'string', minLength: 1 },
    },
  },
};
const candidateRequired = Object.keys(candidateProperties).filter((k) => k !== 'trainedFor');

const ajv = new Ajv({ allErrors: true });
const validateCandidateSchema = ajv.compile({
  type: 'object',
  required: candidateRequired,
  properties: candidateProperties,
});
const validateMetadataSchema = ajv.compile({
  type: 'object',
  required: [...candidateRequired, 'stage', 'createdAt', 'stageHistory'],
  properties: {
    ...candidateProperties,
    stage: { enum: MODEL_STAGES },
    createdAt: { type: 'string', minLength: 1 },
    stageHistory: {
      type: 'array',
      items: {
        type: 'object',
        required: ['from', 'to', 'at', 'reason'],
        properties: {
          from: { enum: [...MODEL_STAGES, null] },
          to: { enum: MODEL_STAGES },
          at: { type: 'string' },
          reason: { type: 'string' },
          replaced: { type: 'string' },
        },
      },
    },
  },
});

export class InvalidModelMetadataError extends Error {
  override readonly name = 'InvalidModelMetadataError';
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`model metadata in ${where} is invalid: ${problems.join('; ')}`);
  }
}

/** Checks the schema plus what a schema cannot say: every feature has a reference profile entry. */
function crossCheck(m: ModelCandidate): string[] {
  const missing = m.features.filter((f) => !(f in m.referenceProfile.features));
  return missing.length ? [`referenceProfile has no entry for feature(s) ${missing.join(', ')}`] : [];
}

export function assertModelCandidate(value: unknown, where: string): asserts value is ModelCandidate {
  if (!validateCandidateSchema(value))
    throw new InvalidModelMetadataError(where, schemaProblems(validateCandidateSchema.errors));
  const problems = crossCheck(value as unknown as ModelCandidate);
  if (problems.length) throw new InvalidModelMetadataError(where, problems);
}

export function assertModelMetadata(value: unknown, where: string): asserts value is ModelMetadata {
  if (!validateMetadataSchema(value))
    throw new InvalidModelMetadataError(where, schemaProblems(validateMetadataSchema.errors));
  const problems = crossCheck(value as unknown as ModelCandidate);
  if (problems.length) throw new InvalidModelMetadataError(where, problems);
}
