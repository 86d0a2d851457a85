/** Typed registry failures, so callers (scorer, control API, CLI) can react per case and print a clear fix. */
export type ModelRegistryErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'VERSION_EXISTS'
  | 'CHECKSUM_MISMATCH'
  | 'NO_PREVIOUS_CHAMPION'
  | 'LIFECYCLE_EVENT_FAILED'
  | 'INVALID_NAME';

export class ModelRegistryError extends Error {
  override readonly name: string = 'ModelRegistryError';
  constructor(
    readonly code: ModelRegistryErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class ModelChecksumError extends ModelRegistryError {
  override readonly name = 'ModelChecksumError';
  constructor(
    readonly model: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'CHECKSUM_MISMATCH',
      `model ${model} is refused: sha256 of its model.onnx is ${actual} but its metadata says ${expected}; ` +
        're-register the model from the trainer output (the file was changed or corrupted after registration)',
    );
  }
}
