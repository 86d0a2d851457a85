/** Keys Sluice stores in an ONNX model's metadata_props, so a model file alone says what it expects. */
export const METADATA_FEATURES_KEY = 'sluice.features';
export const METADATA_KIND_KEY = 'sluice.model_kind';
export const INPUT_NAME = 'features';
export const OUTPUT_NAME = 'score';

export function featureMetadata(kind: string, featureNames: readonly string[]): Record<string, string> {
  if (featureNames.length === 0) throw new Error('a model needs at least one feature name');
  if (new Set(featureNames).size !== featureNames.length) {
    throw new Error(`feature names must be unique, got ${featureNames.join(', ')}`);
  }
  return { [METADATA_KIND_KEY]: kind, [METADATA_FEATURES_KEY]: JSON.stringify(featureNames) };
}
