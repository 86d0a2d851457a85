/**
 * An experiment: how traffic for one decision is split across model variants (A/B) and which models score
 * the same events in shadow. Validated with ajv plus the checks a schema cannot express (weights sum to 1,
 * names unique), so a bad config is refused when it is saved, not when the first event is routed.
 */
import { Ajv } from 'ajv';
import { schemaProblems } from '../schema-problems.js';

/** Which registry version a slot scores with when it is not pinned to a version. */
export const FOLLOWABLE_STAGES = ['champion', 'challenger', 'shadow'] as const;
export type FollowedStage = (typeof FOLLOWABLE_STAGES)[number];

export interface ModelRef {
  readonly name: string;
  readonly model: string;
  /** Pins a version; without it the slot follows the newest version in `stage` and hot-swaps with it. */
  readonly modelVersion?: string;
  /** Default 'champion'. */
  readonly stage?: FollowedStage;
}

export interface VariantSpec extends ModelRef {
  /** Share of entities served by this variant; all weights add up to 1. */
  readonly weight: number;
}

/** What an operator writes; the store assigns `version`. */
export interface ExperimentDraft {
  readonly name: string;
  /** Entities are re-shuffled across variants only when the salt changes. */
  readonly salt: string;
  readonly variants: readonly VariantSpec[];
  readonly shadows: readonly ModelRef[];
  readonly description?: string;
}

export interface ExperimentConfig extends ExperimentDraft {
  readonly version: number;
  readonly createdAt: string;
}

const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const modelRef = {
  name: { type: 'string', pattern: NAME },
  model: { type: 'string', pattern: NAME },
  modelVersion: { type: 'string', pattern: NAME },
  stage: { enum: FOLLOWABLE_STAGES },
};
const draftProperties = {
  name: { type: 'string', pattern: NAME },
  salt: { type: 'string', minLength: 1, maxLength: 256 },
  description: { type: 'string' },
  variants: {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'model', 'weight'],
      properties: { ...modelRef, weight: { type: 'number', minimum: 0, maximum: 1 } },
    },
  },
  shadows: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'model'],
      properties: modelRef,
    },
  },
};

const ajv = new Ajv({ allErrors: true });
const validateDraft = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['name', 'salt', 'variants', 'shadows'],
  properties: draftProperties,
});
const validateConfig = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['name', 'salt', 'variants', 'shadows', 'version', 'createdAt'],
  properties: {
    ...draftProperties,
    version: { type: 'integer', minimum: 1 },
    createdAt: { type: 'string', minLength: 1 },
  },
});

export class InvalidExperimentError extends Error {
  override readonly name = 'InvalidExperimentError';
  constructor(
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`experiment ${where} is invalid: ${problems.join('; ')}`);
  }
}

/** Weights are compared with a small tolerance so 0.1 + 0.2 + 0.7 is accepted. */
const WEIGHT_TOLERANCE = 1e-9;

function crossCheck(d: ExperimentDraft): string[] {
  const problems: string[] = [];
  const total = d.variants.reduce((s, v) => s + v.weight, 0);
  if (Math.abs(total - 1) > WEIGHT_TOLERANCE) {
    problems.push(`variant weights add up to ${total}; they must add up to 1`);
  }
  if (!d.variants.some((v) => v.weight > 0)) problems.push('at least one variant needs a weight above 0');
  const names = [...d.variants, ...d.shadows].map((s) => s.name);
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length) {
    problems.push(
      `slot name(s) ${[...new Set(dup)].join(', ')} used twice; variant and shadow names must be unique`,
    );
  }
  return problems;
}

export function assertExperimentDraft(value: unknown, where: string): asserts value is ExperimentDraft {
  if (!validateDraft(value)) throw new InvalidExperimentError(where, schemaProblems(validateDraft.errors));
  const problems = crossCheck(value as unknown as ExperimentDraft);
  if (problems.length) throw new InvalidExperimentError(where, problems);
}

export function assertExperimentConfig(value: unknown, where: string): asserts value is ExperimentConfig {
  if (!validateConfig(value)) throw new InvalidExperimentError(where, schemaProblems(validateConfig.errors));
  const problems = crossCheck(value as unknown as ExperimentDraft);
  if (problems.length) throw new InvalidExperimentError(where, problems);
}

/** Every model slot of an experiment, served variants first. */
export function experimentSlots(e: ExperimentDraft): { slot: ModelRef; shadow: boolean }[] {
  return [
    ...e.variants.map((slot) => ({ slot, shadow: false })),
    ...e.shadows.map((slot) => ({ slot, shadow: true })),
  ];
}
