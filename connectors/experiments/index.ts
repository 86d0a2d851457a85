/** Versioned experiment configs (A/B variants and shadows) and their store. */
export {
  assertExperimentConfig,
  assertExperimentDraft,
  experimentSlots,
  FOLLOWABLE_STAGES,
  InvalidExperimentError,
  type ExperimentConfig,
  type ExperimentDraft,
  type FollowedStage,
  type ModelRef,
  type VariantSpec,
} from './experiment-config.js';
export {
  ExperimentNotFoundError,
  experimentStoreRoot,
  FileExperimentStore,
} from './file-experiment-store.js';
