/**
 * Confluent Schema Registry error bodies: `{ error_code, message }` with the HTTP status derived from the
 * code, so clients written for Confluent (which switch on `errorCode`) behave the same against Sluice.
 */
export const ErrorCode = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 40101,
  SUBJECT_NOT_FOUND: 40401,
  VERSION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
  SUBJECT_SOFT_DELETED: 40404,
  SUBJECT_NOT_SOFT_DELETED: 40405,
  SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED: 40408,
  INCOMPATIBLE_SCHEMA: 409,
  INVALID_SCHEMA: 42201,
  INVALID_VERSION: 42202,
  INVALID_COMPATIBILITY_LEVEL: 42203,
  STORE_ERROR: 50001,
  NOT_READY: 50003,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly errorCode: ErrorCodeValue,
    message: string,
  ) {
    super(message);
  }

  /** HTTP status: Confluent codes are the status followed by a two-digit detail (40401 -> 404). */
  get status(): number {
    if (this.errorCode === ErrorCode.NOT_READY) return 503; // transient: clients retry 503
    return this.errorCode < 1000 ? this.errorCode : Math.floor(this.errorCode / 100);
  }

  toBody(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export const subjectNotFound = (subject: string) =>
  new RegistryError(ErrorCode.SUBJECT_NOT_FOUND, `Subject '${subject}' not found.`);
export const versionNotFound = (subject: string, version: number | string) =>
  new RegistryError(ErrorCode.VERSION_NOT_FOUND, `Version ${version} not found for subject '${subject}'.`);
export const schemaNotFound = (detail = 'Schema not found') =>
  new RegistryError(ErrorCode.SCHEMA_NOT_FOUND, detail);
