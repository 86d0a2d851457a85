/**
 * Why a value could not be (de)serialized, with a stable `code` for dead-letter headers and dashboards.
 * REGISTRY_UNAVAILABLE is transient (retry with backoff, keep the partition paused); every other code is a
 * property of the bytes or the schema, so the record is dead-lettered (decode) or the producer fixed (encode).
 */
export const SERDE_ERROR_CODES = [
  'EMPTY_PAYLOAD',
  'BAD_MAGIC_BYTE',
  'TRUNCATED_HEADER',
  'UNKNOWN_SCHEMA_ID',
  'AVRO_DECODE_ERROR',
  'TRAILING_BYTES',
  'INCOMPATIBLE_SCHEMA',
  'REGISTRY_UNAVAILABLE',
  /** The value given to serialize() does not match the schema. */
  'AVRO_ENCODE_ERROR',
  /** The registry answered with a non-transient error (bad credentials, invalid schema, ...). */
  'REGISTRY_ERROR',
] as const;
export type SerdeErrorCode = (typeof SERDE_ERROR_CODES)[number];

export class SerdeError extends Error {
  override readonly name = 'SerdeError';
  constructor(
    readonly code: SerdeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when retrying later may succeed; the caller retries instead of dead-lettering. */
  get transient(): boolean {
    return this.code === 'REGISTRY_UNAVAILABLE';
  }
}

export const isSerdeError = (err: unknown): err is SerdeError => err instanceof SerdeError;
