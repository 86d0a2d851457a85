export { createRegistryClient, registryAuthFromEnv } from './client.js';
export type { RegistryAuth, RegistryClient, RegistryClientOptions } from './client.js';
export { createAvroSerde } from './avro-serde.js';
export type { AvroSerde, AvroSerdeOptions } from './avro-serde.js';
export { SerdeError, SERDE_ERROR_CODES, isSerdeError } from './serde-error.js';
export type { SerdeErrorCode } from './serde-error.js';
export { encodeHeader, readSchemaId, HEADER_SIZE, MAGIC_BYTE } from './wire-format.js';
